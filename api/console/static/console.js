// The chosen file's name beside the console's own "选择文件" button
// (templates/partials/file_input.html): the browser's own text is in its language.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  var shown = document.getElementById(input.id + "-chosen");
  if (!shown) return;
  var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
  shown.textContent = names.length ? names.join("、") : shown.dataset.none;
});
