// The widget gallery: copy buttons, the place chooser, and the backdrop the previews are shown over.

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

// The place chooser: the card's addresses (and its preview) get &position=…; the widget's
// own default needs none.
for (const chooser of document.querySelectorAll(".card__place")) {
  chooser.addEventListener("change", (event) => {
    const place = event.target.value;
    const card = chooser.closest(".card");
    const placed = (address) => {
      const url = new URL(address, location.href);
      if (place === chooser.dataset.default) url.searchParams.delete("position");
      else url.searchParams.set("position", place);
      return url;
    };
    for (const input of card.querySelectorAll(".card__url input")) input.value = placed(input.value).href;
    const preview = card.querySelector("iframe");
    const url = placed(preview.getAttribute("src"));
    preview.src = url.pathname + url.search;
  });
}
