/* Parley's website widget: a chat button and panel for any page, on Parley's widget API.
 *
 *   <script src="https://parley.example/widget.js" data-parley-title="Acme support" defer></script>
 *
 * Attributes: data-parley-title (the panel's heading), data-parley-name (the visitor's name,
 * when the website knows it). The API is where the script came from (…/widget.js → …/widget/).
 * The widget lives in a shadow root, so the page's CSS and the widget's never meet. It starts
 * a conversation when the visitor first opens it, keeps the visitor token in localStorage
 * (a returning visitor resumes their conversation), and polls for replies while it is open:
 * every 2 s after something happened, slowing to every 15 s while nothing does (the widget
 * API pushes nothing). Its few strings follow the browser's language (zh* Chinese, else English).
 * Plain JavaScript, no build step: see "The website widget" in docs/console.md.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || window.parleyWidget) return; // the snippet pasted twice makes one widget
  window.parleyWidget = true;

  const STRINGS = {
    en: {
      open: "Chat with us",
      close: "Close chat",
      log: "Messages",
      message: "Message",
      placeholder: "Write a message…",
      send: "Send",
      visitor: "You",
      agent: "Agent",
      bot: "Assistant",
      system: "Notice",
      email: "Email",
      unavailable: "The chat is not available right now. Please try again later.",
      notSent: "That did not go through. Please try again.",
      ended: "That conversation had ended, so a new one has started.",
    },
    zh: {
      open: "在线咨询",
      close: "关闭对话",
      log: "消息",
      message: "消息",
      placeholder: "输入消息…",
      send: "发送",
      visitor: "你",
      agent: "客服",
      bot: "智能助手",
      system: "通知",
      email: "电子邮箱",
      unavailable: "聊天暂时不可用，请稍后再试。",
      notSent: "发送失败，请重试。",
      ended: "之前的对话已结束，已为你开始新的对话。",
    },
  };
  const language = /^zh\b/i.test(navigator.language || "") ? "zh" : "en";
  const t = STRINGS[language];
  const API = new URL("widget/conversations", script.src).href;
  const TOKEN_KEY = "parley-visitor:" + new URL(".", script.src).href;
  const TITLE = script.dataset.parleyTitle || t.open;
  const NAME = script.dataset.parleyName || undefined;
  const POLL_SOON = 2000; // ms after something happened
  const POLL_SLOWEST = 15000; // ms while nothing does
  const PAGE = 200; // the most messages one read returns

  const STYLE = `
    :host { all: initial; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    .root { font: 15px/1.45 system-ui, "Noto Sans", "Noto Sans CJK SC", sans-serif; color: #1d2330; }
    button, input { font: inherit; color: inherit; }
    :focus-visible { outline: 3px solid #0b3d91; outline-offset: 2px; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
      display: flex; gap: 8px; align-items: center; padding: 12px 18px; border: 0;
      border-radius: 999px; background: #1f5fbf; color: #fff; font-weight: 600;
      box-shadow: 0 4px 14px rgba(0, 0, 0, .25); cursor: pointer; }
    .launcher svg { width: 20px; height: 20px; fill: currentColor; }
    .panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483000;
      width: min(380px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px));
      display: flex; flex-direction: column; background: #fff; border-radius: 12px;
      box-shadow: 0 8px 30px rgba(0, 0, 0, .3); overflow: hidden; }
    .head { display: flex; align-items: center; justify-content: space-between;
      padding: 10px 14px; background: #1f5fbf; color: #fff; }
    h2 { margin: 0; font-size: 16px; }
    .close { border: 0; background: transparent; color: #fff; font-size: 22px; line-height: 1;
      padding: 4px 8px; border-radius: 6px; cursor: pointer; }
    .log { flex: 1; overflow-y: auto; padding: 12px; background: #f4f6f9;
      display: flex; flex-direction: column; gap: 10px; }
    .message { max-width: 85%; align-self: flex-start; }
    .message.visitor { align-self: flex-end; }
    .message.system { align-self: center; max-width: 100%; }
    .who { display: block; font-size: 12px; color: #555f70; margin-bottom: 2px; }
    .visitor .who { text-align: right; }
    .bubble { margin: 0; padding: 8px 12px; border-radius: 12px; background: #fff;
      border: 1px solid #d6dae1; white-space: pre-wrap; overflow-wrap: anywhere; }
    .visitor .bubble { background: #1f5fbf; border-color: #1f5fbf; color: #fff; }
    .choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
    .choice { padding: 6px 12px; border: 1px solid #1f5fbf; border-radius: 999px;
      background: #fff; color: #1f5fbf; cursor: pointer; }
    .choice[aria-pressed="true"] { background: #1f5fbf; color: #fff; }
    .choice:disabled { cursor: default; border-color: #8a93a3; color: #555f70; }
    .choice[aria-pressed="true"]:disabled { background: #555f70; color: #fff; }
    .card { background: #fff; border: 1px solid #d6dae1; border-radius: 12px; overflow: hidden; }
    .card img { display: block; width: 100%; max-height: 140px; object-fit: cover; }
    .card h3 { margin: 10px 12px 4px; font-size: 15px; }
    .card p { margin: 0 12px 8px; }
    .card form { display: grid; gap: 6px; padding: 0 12px 12px; }
    label { font-size: 13px; font-weight: 600; }
    input { padding: 7px 10px; border: 1px solid #8a93a3; border-radius: 6px; background: #fff; }
    .primary { padding: 7px 14px; border: 0; border-radius: 6px; background: #1f5fbf;
      color: #fff; font-weight: 600; cursor: pointer; }
    .primary:disabled { background: #8a93a3; cursor: default; }
    .problem { margin: 0; padding: 6px 14px; background: #fde8e8; color: #8a1116; font-size: 13px; }
    .problem:empty { display: none; }
    .compose { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #d6dae1; }
    .compose input { flex: 1; min-width: 0; }
    .hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
      white-space: nowrap; }
  `;
  const ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 3h16a2 2 0 0 1 2 ' +
    '2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';

  /** An element with a class and text (text is always text: messages never become HTML). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The visitor token, kept where the browser allows (private modes may refuse storage). */
  const tokens = {
    memory: null,
    get() {
      try {
        return localStorage.getItem(TOKEN_KEY) || this.memory;
      } catch (_err) {
        return this.memory;
      }
    },
    set(token) {
      this.memory = token;
      try {
        if (token) localStorage.setItem(TOKEN_KEY, token);
        else localStorage.removeItem(TOKEN_KEY);
      } catch (_err) {
        // the token lives as long as the page then
      }
    },
  };

  class Failed extends Error {
    constructor(status) {
      super("Parley answered " + status);
      this.status = status;
    }
  }

  /** A message's own id, for the service to know a retried call (`client_id`). */
  function clientId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** One call of the widget API, as the visitor (their token, never cookies). */
  async function call(method, path, body) {
    const headers = {};
    const token = tokens.get();
    if (token) headers["X-Visitor-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    if (!response.ok) throw new Failed(response.status);
    return response.json();
  }

  class Widget {
    constructor(host) {
      const root = host.attachShadow({ mode: "open" });
      root.innerHTML =
        `<style>${STYLE}</style><div class="root">` +
        `<button class="launcher" type="button" aria-expanded="false" aria-controls="panel">` +
        `${ICON}<span></span></button>` +
        `<section class="panel" id="panel" role="dialog" aria-labelledby="title" hidden>` +
        `<div class="head"><h2 id="title"></h2>` +
        `<button class="close" type="button"><span aria-hidden="true">×</span></button></div>` +
        `<div class="log" role="log" aria-live="polite" tabindex="0"></div>` +
        `<p class="problem" role="alert"></p>` +
        `<form class="compose"><label class="hidden" for="text"></label>` +
        `<input id="text" type="text" maxlength="2000" autocomplete="off" required>` +
        `<button class="primary" type="submit"></button></form></section></div>`;
      this.launcher = root.querySelector(".launcher");
      this.panel = root.querySelector(".panel");
      this.log = root.querySelector(".log");
      this.problem = root.querySelector(".problem");
      this.form = root.querySelector(".compose");
      this.input = root.querySelector("#text");
      this.launcher.querySelector("span").textContent = t.open;
      root.querySelector("h2").textContent = TITLE;
      root.querySelector(".close").setAttribute("aria-label", t.close);
      this.log.setAttribute("aria-label", t.log);
      root.querySelector("label").textContent = t.message;
      this.input.placeholder = t.placeholder;
      this.form.querySelector("button").textContent = t.send;
      this.conversation = null;
      this.lastId = 0;
      this.delay = POLL_SOON;
      this.timer = null;
      this.reading = false;
      this.readAgain = false;
      this.starting = null;
      this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
      root.querySelector(".close").addEventListener("click", () => this.close());
      this.panel.addEventListener("keydown", (event) => {
        if (event.key === "Escape") this.close();
      });
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = this.input.value.trim();
        if (!text) return;
        // the same id while the visitor sends the same text again after a failed call, so
        // a message the service stored without our hearing it is not stored twice
        if (this.draft?.text !== text) this.draft = { text, id: clientId() };
        this.send("/messages", { text, client_id: this.draft.id }, () => {
          this.input.value = "";
          this.draft = null;
        });
      });
    }

    /** Show the panel, move focus into it, start or resume the conversation, read replies. */
    async open() {
      this.panel.hidden = false;
      this.launcher.setAttribute("aria-expanded", "true");
      this.input.focus();
      this.say("");
      if (this.conversation === null) {
        try {
          await this.start();
        } catch (_err) {
          this.say(t.unavailable);
          return;
        }
      }
      this.readSoon();
    }

    /** Hide the panel, stop reading, and give focus back to the launcher. */
    close() {
      this.panel.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      clearTimeout(this.timer);
      this.timer = null;
      this.launcher.focus();
    }

    /** Start or resume the conversation, one call at a time (two quick clicks: one visitor). */
    start() {
      if (!this.starting) this.starting = this.begin().finally(() => (this.starting = null));
      return this.starting;
    }

    /** The visitor's ongoing conversation (a new visitor, or an unknown token, starts anew). */
    async begin() {
      let answer;
      try {
        answer = await call("POST", "", tokens.get() ? { visitor_token: tokens.get() } : { name: NAME });
      } catch (err) {
        if (!(err instanceof Failed && err.status === 404)) throw err;
        tokens.set(null); // a token this Parley does not know: be a new visitor
        answer = await call("POST", "", { name: NAME });
      }
      tokens.set(answer.visitor_token);
      if (this.conversation !== null && this.conversation !== answer.conversation_id) {
        this.lastId = 0;
      }
      this.conversation = answer.conversation_id;
    }

    /** Post what the visitor did; an ended conversation is followed by a new one, once. */
    async send(what, body, done) {
      this.say("");
      try {
        await this.post(what, body);
      } catch (err) {
        if (!(err instanceof Failed && err.status === 409)) return this.say(t.notSent);
        try {
          await this.start();
          await this.post(what, body);
        } catch (_err) {
          return this.say(t.notSent);
        }
        this.say(t.ended);
      }
      done();
      this.readSoon();
    }

    async post(what, body) {
      if (this.conversation === null) await this.start(); // the first open could not start it
      return call("POST", `/${this.conversation}${what}`, body);
    }

    /** Show (or clear, with "") a problem in the panel; screen readers hear it at once. */
    say(problem) {
      this.problem.textContent = problem;
    }

    /** Read now, and then again soon: something just happened. */
    readSoon() {
      this.delay = POLL_SOON;
      if (this.reading) this.readAgain = true;
      else this.read();
    }

    /** Fetch the messages after the last one shown, then schedule the next read. */
    async read() {
      clearTimeout(this.timer);
      if (this.conversation === null) return;
      this.reading = true;
      let fresh = 0;
      try {
        let batch;
        do {
          const path = `/${this.conversation}/messages?after=${this.lastId}`;
          batch = (await call("GET", path)).messages;
          batch.forEach((message) => this.show(message));
          fresh += batch.length;
        } while (batch.length === PAGE);
        this.delay = fresh ? POLL_SOON : Math.min(this.delay * 1.5, POLL_SLOWEST);
      } catch (_err) {
        this.delay = Math.min(this.delay * 2, POLL_SLOWEST); // Parley away: ask less often
      }
      this.reading = false;
      if (this.panel.hidden) {
        this.readAgain = false; // reading starts again when the panel opens
      } else if (this.readAgain) {
        this.readAgain = false;
        this.read();
      } else {
        this.timer = setTimeout(() => this.read(), this.delay);
      }
    }

    /** Add one message to the log: its sender, its text, and what the bot attached. */
    show(message) {
      if (message.id <= this.lastId) return;
      this.lastId = message.id;
      const item = el("div", "message " + message.sender);
      item.append(el("span", "who", t[message.sender] || message.sender));
      const card = (message.attachments || []).find((a) => a.type === "promo_card");
      if (card) item.append(this.card(card));
      else item.append(el("p", "bubble", message.text));
      for (const attachment of message.attachments || []) {
        if (attachment.type === "say" && attachment.buttons && attachment.buttons.length) {
          item.append(
            this.choices(attachment.buttons, (b) => b.label, (b) => ["/clicks", { payload: b.payload }])
          );
        } else if (attachment.type === "ask" && attachment.choices && attachment.choices.length) {
          item.append(this.choices(attachment.choices, (c) => c, (c) => ["/messages", { text: c }]));
        }
      }
      const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
      this.log.append(item);
      if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    }

    /** The bot's buttons (or an ask's choices) as real buttons; the one pressed is marked. */
    choices(options, label, action) {
      const group = el("div", "choices");
      for (const option of options) {
        const button = el("button", "choice", label(option));
        button.type = "button";
        button.addEventListener("click", () => {
          const [what, body] = action(option);
          this.send(what, body, () => {
            group.querySelectorAll("button").forEach((b) => (b.disabled = true));
            button.setAttribute("aria-pressed", "true");
            this.input.focus();
          });
        });
        group.append(button);
      }
      return group;
    }

    /** A promo card: its title, picture and text, and the email form it asks to fill. */
    card(card) {
      const box = el("div", "card");
      if (card.image) {
        const image = el("img");
        image.src = card.image;
        image.alt = ""; // the title says what it is about
        image.addEventListener("error", () => image.remove());
        box.append(image);
      }
      box.append(el("h3", "", card.title), el("p", "", card.text || ""));
      const form = el("form");
      const id = "card-" + this.lastId;
      const label = el("label", "", t.email);
      label.htmlFor = id;
      const input = el("input");
      Object.assign(input, { id, type: "email", required: true, autocomplete: "email" });
      const submit = el("button", "primary", card.button);
      submit.type = "submit";
      form.append(label, input, submit);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.send("/inputs", { text: input.value.trim() }, () => {
          input.disabled = submit.disabled = true;
          this.input.focus();
        });
      });
      box.append(form);
      return box;
    }
  }

  function mount() {
    const host = document.createElement("div");
    host.setAttribute("data-parley-widget", "");
    document.body.append(host);
    new Widget(host);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
