/* Desk: show the call scripts of the category picked for the call (and of its
   parent categories). Follows the call note's category select (#note-category)
   when there is one; a script that sets that select should dispatch "change". */
(function () {
  "use strict";

  function show(select) {
    var option = select.options[select.selectedIndex];
    var path = option && option.dataset.path ? option.dataset.path.split(" ") : [];
    var any = false;
    document.querySelectorAll("#desk-scripts [data-category]").forEach(function (el) {
      var on = path.indexOf(el.dataset.category) >= 0;
      el.hidden = !on;
      any = any || on;
    });
    var none = document.getElementById("script-none");
    if (none) { none.hidden = any; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var mine = document.getElementById("script-category");
    if (!mine) { return; }
    mine.addEventListener("change", function () { show(mine); });
    var note = document.getElementById("note-category");
    if (note) {
      var follow = function () { mine.value = note.value; show(mine); };
      note.addEventListener("change", follow);
      note.addEventListener("input", follow);
    }
    show(mine);
  });
})();
