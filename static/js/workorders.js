/* New work order: a "select all" box for the protocol table. Without
   JavaScript the box stays hidden and each protocol is ticked by hand. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      var name = all.getAttribute("data-select-all");
      var boxes = Array.prototype.slice.call(
        all.form.querySelectorAll('input[type=checkbox][name="' + name + '"]')
      );
      var label = all.form.querySelector('label[for="' + all.id + '"]');
      all.hidden = false;
      if (label) { label.hidden = false; }
      function sync() {
        var ticked = boxes.filter(function (b) { return b.checked; }).length;
        all.checked = ticked === boxes.length && ticked > 0;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      }
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
      });
      boxes.forEach(function (b) { b.addEventListener("change", sync); });
      sync();
    });
  });
})();
