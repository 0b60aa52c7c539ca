// Junction console: the only script. Every page works without it; it adds a
// busy state to forms that take a while (running test data, capturing the
// next event), so a second click does not send the form twice.
"use strict";
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var button = form.querySelector("button[data-busy]");
  if (!button) {
    return;
  }
  form.classList.add("busy");
  form.setAttribute("aria-busy", "true");
  button.setAttribute("data-label", button.textContent);
  button.textContent = button.getAttribute("data-busy");
  // Disable after the submit has been taken, or the button's own value
  // would be left out of the form data.
  setTimeout(function () { button.disabled = true; }, 0);
});
// A page shown again from the back/forward cache keeps its busy state.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form.busy").forEach(function (form) {
    form.classList.remove("busy");
    form.removeAttribute("aria-busy");
    var button = form.querySelector("button[data-busy]");
    if (button) {
      button.disabled = false;
      button.textContent = button.getAttribute("data-label") || button.textContent;
    }
  });
});
