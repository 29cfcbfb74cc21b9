// Step forms: a scanner's Enter checks the label instead of submitting; the signature dialog opens
// only when every required field is filled and every scanned label, bag or wristband matches the product.
(function () {
  "use strict";
  // Scans: a scan field with a live check counts once its box shows a match (an optional one left empty does not
  // count); until every such scan matches, the sign button stays disabled, whatever the page's other script says.
  function verdictOf(input) {
    var box = document.getElementById(input.getAttribute("data-box"));
    var shown = box && box.querySelector("[data-scan]");
    return shown ? shown.getAttribute("data-scan") : "";
  }
  function firstUnmatchedScan(form) {
    var scans = form.querySelectorAll("input.scan[data-checked]");
    for (var i = 0; i < scans.length; i++) {
      if (!scans[i].required && scans[i].value.trim() === "") { continue; }
      if (verdictOf(scans[i]) !== "match") { return scans[i]; }
    }
    return null;
  }
  function refreshSignButton(form) {
    var sign = form && form.querySelector("#sign-button");
    if (!sign) { return; }
    var blocked = firstUnmatchedScan(form) !== null;
    sign.disabled = blocked;
    sign.setAttribute("aria-disabled", blocked ? "true" : "false");
  }
  document.querySelectorAll("#step-form").forEach(refreshSignButton);
  document.addEventListener("DOMContentLoaded", function () {
    // A scan already filled (a shipment's own unit, a refused form shown again) is checked at once, not trusted.
    document.querySelectorAll("#step-form input.scan[data-checked]").forEach(function (input) {
      if (input.value.trim() !== "" && window.htmx) { window.htmx.trigger(input, "change"); }
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    refreshSignButton(event.target.closest ? event.target.closest("form") : null);
  });
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("scan") && target.hasAttribute("data-checked")) {
      var box = document.getElementById(target.getAttribute("data-box"));
      if (box) { box.innerHTML = ""; }  // a changed scan is judged again, never on its old verdict
      refreshSignButton(target.form);
    }
  });
  // Lists: a row is added from its group's template (named by the next free position) or removed in place.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.hasAttribute && target.hasAttribute("data-add-row")) {
      var name = target.getAttribute("data-add-row");
      var rows = document.querySelector("#rows-" + CSS.escape(name) + " .rows");
      var next = parseInt(rows.getAttribute("data-next"), 10);
      var html = document.getElementById("tpl-" + name).innerHTML.split("__i__").join(String(next));
      rows.insertAdjacentHTML("beforeend", html.split("__n__").join(String(rows.children.length + 1)));
      rows.setAttribute("data-next", String(next + 1));
      var added = rows.lastElementChild;
      if (window.htmx) { window.htmx.process(added); }
      var first = added.querySelector("input:not([type=hidden]), select");
      if (first) { first.focus(); }
      refreshSignButton(target.form);
    }
    if (target.hasAttribute && target.hasAttribute("data-remove-row")) {
      var row = document.getElementById(target.getAttribute("data-remove-row"));
      var form = target.form;
      if (row) { row.remove(); }
      refreshSignButton(form);
    }
  });
  function outsideDialog(form) {
    return Array.from(form.elements).filter(function (el) { return !el.closest("dialog"); });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList && event.target.classList.contains("scan")) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.id === "continue-to-signature") {
      var form = target.form;
      var fields = outsideDialog(form);
      for (var i = 0; i < fields.length; i++) {
        if (fields[i].willValidate && !fields[i].checkValidity()) { fields[i].reportValidity(); return; }
      }
      var waiting = firstUnmatchedScan(form);
      if (waiting) {
        var box = document.getElementById(waiting.getAttribute("data-box"));
        var shown = verdictOf(waiting);
        if (shown !== "mismatch" && shown !== "invalid") {
          box.innerHTML = '<p class="scan-mismatch" data-scan="unchecked" role="alert"></p>';
          box.firstChild.textContent = "✗ " + waiting.getAttribute("data-unchecked");
        }
        waiting.focus();
        return;
      }
      document.getElementById("sign-time").textContent = new Date().toLocaleString(document.documentElement.lang);
      var dialog = document.getElementById("signature-dialog");
      dialog.showModal();
      var first = dialog.querySelector("input, select");
      if (first) { first.focus(); }
    }
    if (target.id === "cancel-signature") {
      document.getElementById("signature-dialog").close();
    }
  });
})();
