// The bot-hosting page: "select all on this page", and the dialog that confirms "all assigned".
(() => {
  const boxes = () => document.querySelectorAll('#hosting-list input[name="conversation_ids"]');
  let opener = null; // the button that opened the dialog gets the focus back

  function syncSelectAll() {
    const all = document.getElementById("select-page");
    if (!all) return;
    const ticked = [...boxes()].filter((box) => box.checked).length;
    all.checked = ticked > 0 && ticked === boxes().length;
    all.indeterminate = ticked > 0 && ticked < boxes().length;
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "select-page") {
      boxes().forEach((box) => { box.checked = event.target.checked; });
    }
    syncSelectAll();
  });

  document.addEventListener("htmx:after:swap", (event) => {
    syncSelectAll();
    const dialog = document.getElementById("all-dialog");
    if (event.detail.ctx.target === dialog && !dialog.open) {
      opener = event.target;
      dialog.showModal(); // focus goes to its autofocus button
    }
  });

  document.addEventListener("htmx:after:request", (event) => {
    const dialog = event.target.closest?.("dialog");
    if (dialog && event.target.matches("form")) dialog.close();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-dialog]")) event.target.closest("dialog").close();
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("all-dialog").addEventListener("close", () => opener?.focus());
    syncSelectAll();
  });
})();
