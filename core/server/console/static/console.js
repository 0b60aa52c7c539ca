// Junction console: the only script. Every page works without it; it adds a
// busy state to forms that take a while (running test data, capturing the
// next event), so a second click does not send the form twice, and runs
// the live views of the connection and workflow pages.
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
// Live views: a section with data-tap streams that URL (server-sent events,
// authorized by the session cookie) into its list while the operator
// watches. Entries are text, never markup; the list keeps the newest 200.
document.querySelectorAll("section[data-tap]").forEach(function (section) {
  var button = section.querySelector(".live-toggle");
  var log = section.querySelector(".live-log");
  var status = section.querySelector(".live-status");
  var source = null;
  var keep = 200;
  button.hidden = false;
  function add(kind, text) {
    var li = document.createElement("li");
    li.className = "live-" + kind;
    li.textContent = text;
    log.insertBefore(li, log.firstChild);
    while (log.childElementCount > keep) {
      log.removeChild(log.lastChild);
    }
  }
  function stop(text) {
    if (source) {
      source.close();
      source = null;
    }
    button.textContent = "Watch live";
    status.textContent = text;
  }
  button.addEventListener("click", function () {
    if (source) {
      stop("Stopped.");
      return;
    }
    source = new EventSource(section.getAttribute("data-tap"));
    button.textContent = "Stop";
    status.textContent = "Connecting…";
    source.addEventListener("ready", function () { status.textContent = "Watching."; });
    source.addEventListener("event", function (m) {
      var e = JSON.parse(m.data);
      add("event", (e.receivedAt || "") + "  event " + (e.id || "(fetched)") + (e.type ? " " + e.type : "") + "  " + JSON.stringify(e.payload));
    });
    source.addEventListener("run", function (m) {
      var r = JSON.parse(m.data);
      add("run", (r.finishedAt || r.updatedAt || "") + "  run " + r.id + " " + r.workflow + " " + r.status + (r.error ? ": " + r.error : ""));
    });
    source.addEventListener("dropped", function (m) {
      stop("Stopped by the hub: " + JSON.parse(m.data).reason);
    });
    source.onerror = function () {
      // A dropped or closed stream is not reopened behind the operator's
      // back: they watch again when they want.
      if (source && source.readyState === EventSource.CLOSED) {
        stop("Disconnected.");
      }
    };
  });
});
