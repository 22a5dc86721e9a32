/* The desk's call controls (webui/templates/desk/_call_controls.html): htmx sends
   the buttons' forms and swaps the answer in; this script only
   - asks for the controls of the call the card shows whenever desk.js pops a new
     call (the card's data-call changes), and
   - lets htmx swap in the answers to refused controls (4xx/5xx), which carry the
     message to show in the card.
   No inline script: the panel's Content-Security-Policy forbids it. */
(function () {
  "use strict";

  var SWAP_ERRORS = { "call-controls": true, "dial-result": true };

  function refresh(call) {
    var box = document.getElementById("call-controls");
    if (!box || !window.htmx) { return; }
    htmx.ajax("GET", box.dataset.refresh + "?call=" + encodeURIComponent(call || ""),
              { target: "#call-controls", swap: "outerHTML" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pop = document.getElementById("pop");
    if (pop) {
      new MutationObserver(function () { refresh(pop.dataset.call); })
        .observe(pop, { attributes: true, attributeFilter: ["data-call"] });
    }
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var target = event.detail.target;
      if (target && SWAP_ERRORS[target.id] && event.detail.xhr.status >= 400) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
  });
})();
