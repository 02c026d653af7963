// Xueji's only script besides htmx. Kept external: the Content Security Policy forbids
// inline script.
(function () {
  "use strict";
  // On a wide screen the navigation is always shown; on a phone it folds into "Menu".
  function syncMenu() {
    var menu = document.querySelector("details.menu");
    if (menu && window.matchMedia("(min-width: 900px)").matches) {
      menu.open = true;
    }
  }
  document.addEventListener("DOMContentLoaded", syncMenu);
  window.addEventListener("resize", syncMenu);
})();
