/* Patolab: small progressive enhancements; every page works without them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    // Collapsing navigation on narrow screens (CSS hides the list only when
    // the button is shown and the menu is closed).
    var toggle = document.querySelector(".nav-toggle");
    var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (toggle && nav) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") === "true";
        toggle.setAttribute("aria-expanded", open ? "false" : "true");
      });
    }
    // A table wider than a phone scrolls inside itself: make it reachable
    // from the keyboard (WCAG 2.1.1), only when it really scrolls.
    function markScrollableTables() {
      document.querySelectorAll("table.table, .table-scroll").forEach(function (table) {
        if (table.scrollWidth > table.clientWidth + 1) {
          table.setAttribute("tabindex", "0");
        } else {
          table.removeAttribute("tabindex");
        }
      });
    }
    markScrollableTables();
    window.addEventListener("resize", markScrollableTables);
    // Buttons that ask before doing something irreversible (no inline
    // handlers, so a strict Content-Security-Policy allows them).
    document.addEventListener("click", function (event) {
      var el = event.target.closest("[data-confirm]");
      if (el && !window.confirm(el.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
