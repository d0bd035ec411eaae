// Wires the vendored signature_pad library to the request form (drawing is optional).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-canvas");
  var input = document.getElementById("id_drawn_signature");
  if (!canvas || !input || typeof SignaturePad === "undefined") { return; }
  var pad = new SignaturePad(canvas, { minWidth: 0.8, maxWidth: 2.4 });
  function resize() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", resize);
  resize();
  pad.addEventListener("endStroke", function () { input.value = pad.toDataURL("image/png"); });
  document.getElementById("signature-clear").addEventListener("click", function () {
    pad.clear();
    input.value = "";
  });
  // Show only the fields of the chosen kind of request.
  var radios = document.querySelectorAll("input[name=kind]");
  function showKind() {
    var checked = document.querySelector("input[name=kind]:checked");
    document.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = !checked || el.getAttribute("data-kind") !== checked.value;
    });
  }
  radios.forEach(function (r) { r.addEventListener("change", showKind); });
  showKind();
})();
