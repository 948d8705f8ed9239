// The main menu folds behind a button on narrow screens. Without this file the menu is simply
// shown in full. The "js" class is set at once (the script loads in <head>) so the folded menu
// never flashes open.
document.documentElement.classList.add("js");

// A table wider than the screen scrolls inside its box: keyboard users need to reach the box
// to scroll it (WCAG 2.1.1), and it is named after its table for screen readers.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".table-wrap").forEach(function (wrap) {
    if (wrap.scrollWidth > wrap.clientWidth && !wrap.hasAttribute("tabindex")) {
      var caption = wrap.querySelector("caption");
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : document.title);
    }
  });
});

document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector(".menu-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }
  toggle.addEventListener("click", function () {
    setOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
});
