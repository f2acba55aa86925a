// The widget gallery: copy buttons, and the backdrop the previews are shown over.

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = button.parentElement.querySelector("input");
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      document.execCommand("copy"); // plain http on a LAN address has no clipboard API
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 1500);
  });
}

const gallery = document.querySelector(".gallery");
for (const button of document.querySelectorAll("[data-backdrop]")) {
  button.addEventListener("click", () => {
    gallery.dataset.backdrop = button.dataset.backdrop;
    for (const other of document.querySelectorAll("[data-backdrop]")) {
      if (other.tagName === "BUTTON") other.setAttribute("aria-pressed", String(other === button));
    }
  });
}
