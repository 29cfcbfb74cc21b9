// Step forms: a scanner's Enter checks the label instead of submitting; the signature dialog opens
// only when every required field is filled and every scanned label matches the product.
(function () {
  "use strict";
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
      var scans = form.querySelectorAll("input.scan");
      for (var j = 0; j < scans.length; j++) {
        var verdict = document.querySelector("#scan-" + scans[j].name + " [data-scan]");
        if (!verdict || verdict.getAttribute("data-scan") !== "match") {
          var box = document.getElementById("scan-" + scans[j].name);
          if (!verdict || verdict.getAttribute("data-scan") !== "mismatch") {
            box.innerHTML = '<p class="scan-mismatch" data-scan="unchecked" role="alert">' + (document.documentElement.lang === "fr" ? "Scannez d'abord l'étiquette" : "Scan the label first") + "</p>";
          }
          scans[j].focus();
          return;
        }
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
