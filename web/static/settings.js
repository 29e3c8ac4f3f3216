// Settings: "Copy link" buttons copy the readonly input they name, and say so.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select(); // no clipboard access: selected, the agent copies it with Ctrl+C
    return;
  }
  button.parentElement.querySelector("[data-copied]").textContent = button.dataset.copiedText;
});
