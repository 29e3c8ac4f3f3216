// The inbox's keyboard shortcuts and live announcements (docs/console.md, The inbox); no framework.
(() => {
  "use strict";

  // What the list showed last: conversation id -> visitor message count and contact name.
  const snapshot = () => {
    const rows = new Map();
    for (const row of document.querySelectorAll("#inbox-live [data-conversation]")) {
      rows.set(row.dataset.conversation, {
        messages: Number(row.dataset.visitorMessages),
        name: row.dataset.name,
      });
    }
    return rows;
  };

  let shown = snapshot();

  // After the live part re-rendered: say what arrived, in the polite live region.
  const announce = () => {
    const region = document.getElementById("inbox-announce");
    const now = snapshot();
    if (!region) return;
    const fresh = [...now.keys()].filter((id) => !shown.has(id)).length;
    const said = [];
    if (fresh === 1) said.push(region.dataset.newOne);
    if (fresh > 1) said.push(region.dataset.newMany.replace("{n}", String(fresh)));
    for (const [id, row] of now) {
      const before = shown.get(id);
      if (before && row.messages > before.messages) {
        said.push(region.dataset.newMessage.replace("{name}", row.name));
      }
    }
    shown = now;
    if (said.length) region.textContent = said.join(" ");
  };

  // Alt+J / Alt+K: focus the next / previous conversation (the first / last if none is).
  const step = (by) => {
    const links = [...document.querySelectorAll("#inbox-live .row-link")];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? (by > 0 ? 0 : links.length - 1) : at + by;
    links[Math.min(Math.max(next, 0), links.length - 1)].focus();
  };

  const onKey = (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.code === "KeyJ") step(1);
    else if (event.code === "KeyK") step(-1);
    else {
      const target = document.querySelector(`#inbox-live [data-shortcut="${event.code}"]`);
      if (!target) return;
      target.click();
    }
    event.preventDefault();
  };

  document.addEventListener("htmx:after:swap", announce);
  document.addEventListener("keydown", onKey);
})();
