/* The desk's call card and work orders: the "make a work order from this call"
   link carries the UUID of the call on screen (desk.js keeps it in the note form's
   hidden #note-call field), and the known customer's open orders are listed in
   #cust-orders. Text goes in as textContent, never as HTML; no inline script (the
   panel's Content-Security-Policy forbids it). */
(function () {
  "use strict";
  var shownCustomer = null;

  function showOrders(box, orders) {
    if (!orders.length) { box.textContent = box.dataset.none; return; }
    box.replaceChildren();
    orders.forEach(function (order, i) {
      if (i) { box.appendChild(document.createTextNode(" · ")); }
      var a = document.createElement("a");
      a.href = order.url;
      a.textContent = order.number + " " + order.title + " (" + order.state + ")";
      box.appendChild(a);
    });
  }

  function loadOrders(link) {
    var box = document.getElementById("cust-orders");
    var customer = document.getElementById("note-customer");
    var id = customer ? customer.value : "";
    if (!box || id === shownCustomer) { return; }
    shownCustomer = id;
    if (!box.dataset.none) { box.dataset.none = box.textContent; }
    if (!id) { box.textContent = box.dataset.none; return; }
    fetch(link.dataset.customerOrders.replace("/0/", "/" + encodeURIComponent(id) + "/"),
          {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {orders: []}; })
      .then(function (data) { if (shownCustomer === id) { showOrders(box, data.orders); } })
      .catch(function () { /* the card still works without the list */ });
  }

  function update() {
    var link = document.getElementById("wo-from-call");
    var call = document.getElementById("note-call");
    if (!link) { return; }
    var uuid = call ? call.value : "";
    var href = link.dataset.base + (uuid ? "?call=" + encodeURIComponent(uuid) : "");
    if (link.getAttribute("href") !== href) { link.setAttribute("href", href); }
    loadOrders(link);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var link = document.getElementById("wo-from-call");
    if (!link) { return; }
    ["click", "auxclick", "focus", "mouseenter", "touchstart"].forEach(function (name) {
      link.addEventListener(name, update);
    });
    var pop = document.getElementById("pop");
    if (pop && window.MutationObserver) {
      // desk.js marks a new call on #pop (data-call) and shows/hides the customer
      // cards; watching only those attributes keeps this from seeing its own changes
      new MutationObserver(update).observe(pop, {attributes: true, subtree: true,
                                                 attributeFilter: ["hidden", "data-call"]});
    }
    update();
  });
})();
