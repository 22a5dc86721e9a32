/* The agent desk: screen pops from the server-sent event stream, and the desk's
   forms sent with fetch. Everything that came from a call (caller-ID name, call
   data, customer fields) goes into the page as text (textContent), never as HTML.
   No inline script or style: the panel's Content-Security-Policy forbids them. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }
  function setText(id, value) { var el = $(id); if (el) { el.textContent = value == null ? "" : String(value); } }

  var desk = null;
  var current = null;   // the payload on screen

  function fillData(data) {
    var list = $("pop-data");
    list.replaceChildren();
    var keys = Object.keys(data || {});
    if (!keys.length) {
      var none = document.createElement("dd");
      none.textContent = list.dataset.empty;
      list.appendChild(none);
      return;
    }
    keys.forEach(function (key) {
      var dt = document.createElement("dt"); dt.textContent = key;
      var dd = document.createElement("dd"); dd.textContent = data[key];
      list.append(dt, dd);
    });
  }

  function noteCategory(note) {
    return desk.dataset.lang.indexOf("zh") === 0 ? note.category_zh : note.category_en;
  }

  function fillCustomer(customer) {
    $("card-known").hidden = !customer;
    $("card-unknown").hidden = !!customer;
    $("note-customer").value = customer ? customer.id : "";
    if (!customer) { return; }
    setText("cust-name", customer.name);
    setText("cust-address", customer.address);
    setText("cust-region", [customer.region, customer.community].filter(Boolean).join(" · "));
    setText("cust-account", customer.account_no);
    var calls = $("cust-calls");
    calls.replaceChildren();
    if (!customer.calls.length) {
      var empty = document.createElement("li");
      empty.textContent = calls.dataset.empty;
      calls.appendChild(empty);
    }
    customer.calls.forEach(function (call) {
      var li = document.createElement("li");
      li.textContent = call.at + (call.queue ? " · " + call.queue : "");
      if (call.notes.length) {
        var ul = document.createElement("ul");
        call.notes.forEach(function (note) {
          var item = document.createElement("li");
          var category = noteCategory(note);
          item.textContent = (category ? "[" + category + "] " : "") + note.text;
          ul.appendChild(item);
        });
        li.appendChild(ul);
      }
      calls.appendChild(li);
    });
  }

  function pop(payload) {
    current = payload;
    setText("pop-caller", payload.caller);
    setText("pop-caller-name", payload.caller_name);
    setText("pop-queue", payload.queue);
    setText("pop-path", payload.path);
    fillData(payload.data);
    fillCustomer(payload.customer);
    $("new-phone").value = payload.e164 || payload.caller || "";
    $("new-name").value = "";
    $("note-call").value = payload.call_uuid;
    $("note-text").value = "";
    $("blacklist-number").value = payload.e164 || payload.caller || "";
    $("blacklist-call").value = payload.call_uuid;
    ["note-message", "blacklist-message", "customer-message"].forEach(function (id) { setText(id, ""); });
    $("pop").hidden = false;
    $("pop").dataset.call = payload.call_uuid;
    $("pop-waiting").hidden = true;
  }

  function connect() {
    var state = $("stream-state");
    var source = new EventSource(desk.dataset.events);
    source.addEventListener("open", function () { state.textContent = state.dataset.connected; desk.dataset.stream = "open"; });
    source.addEventListener("error", function () { state.textContent = state.dataset.lost; desk.dataset.stream = "lost"; });
    source.addEventListener("pop", function (event) {
      var payload;
      try { payload = JSON.parse(event.data); } catch (e) { return; }
      if (current && current.call_uuid === payload.call_uuid) { return; }
      pop(payload);
    });
  }

  function show(id, body, ok) {
    var el = $(id);
    el.textContent = body.message || "";
    el.classList.toggle("bad", !ok);
  }

  var MESSAGES = { status: "status-message", note: "note-message",
                   blacklist: "blacklist-message", customer: "customer-message" };

  function submit(event) {
    var form = event.target;
    var kind = form.dataset ? form.dataset.deskForm : null;
    if (!kind) { return; }
    event.preventDefault();
    var data = new FormData(form, event.submitter || undefined);
    // getAttribute: a field named "action" would shadow form.action
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin",
                         headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return { message: String(response.status) }; })
          .then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        show(MESSAGES[kind], result.body, result.ok);
        if (!result.ok) { return; }
        if (kind === "status") {
          var status = $("agent-status");
          status.textContent = result.body.label;
          status.dataset.status = result.body.status;
          var reason = form.querySelector("select[name=reason]");
          setText("agent-reason", result.body.status === "On Break" && reason ? reason.selectedOptions[0].textContent : "");
        } else if (kind === "note") {
          $("note-text").value = "";
        } else if (kind === "customer") {
          fillCustomer(result.body.customer);
          if (current) { current.customer = result.body.customer; }
        }
      })
      .catch(function () { show(MESSAGES[kind], { message: "—" }, false); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    desk = $("desk");
    if (!desk) { return; }
    document.addEventListener("submit", submit);
    connect();
  });
})();
