// The funnel builder's step rows: the server renders every row the funnel may have; this shows
// the filled ones and one blank more (at least four), and "Add a step" shows the next blank one.
// Without this script every row shows, which works as well.
(function () {
  "use strict";

  var MIN_ROWS = 4;

  function filled(row) {
    return Array.prototype.some.call(row.querySelectorAll("select, input"), function (field) {
      return field.value.trim() !== "";
    });
  }

  function setUp() {
    var form = document.getElementById("funnel-builder");
    var button = document.getElementById("funnel-add-step");
    if (!form || !button) return;
    var rows = Array.prototype.slice.call(form.querySelectorAll(".funnel-step"));
    var last = -1;
    rows.forEach(function (row, n) { if (filled(row)) last = n; });
    var shown = Math.min(rows.length, Math.max(MIN_ROWS, last + 2));
    rows.forEach(function (row, n) { row.hidden = n >= shown; });

    function next() {
      return rows.filter(function (row) { return row.hidden; })[0];
    }

    button.hidden = !next();
    button.addEventListener("click", function () {
      var row = next();
      if (!row) return;
      row.hidden = false;
      row.querySelector("select, input").focus();
      button.hidden = !next();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
