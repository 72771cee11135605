/* Answer groups: while a grouping runs, poll its status JSON and fill the progress bar; when it is done, show
   the link to the groups (on the groups page itself: reload it). On the groups page, "Tick all"/"Tick none"
   set every member checkbox of that group. Text goes in with textContent; no inline scripts (CSP). */
(function () {
  "use strict";
  var box = document.querySelector("[data-grouping-url]");
  if (box && (box.dataset.state === "queued" || box.dataset.state === "running")) {
    var bar = box.querySelector("[data-grouping-bar]");
    var label = box.querySelector("[data-grouping-label]");
    var link = box.querySelector("[data-groups-link]");
    var button = box.querySelector("[data-suggest-button]");
    var delay = 1000;
    var poll = function () {
      fetch(box.dataset.groupingUrl, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (data) {
          delay = 1000;
          box.dataset.state = data.state;
          if (label) label.textContent = data.message;
          if (bar) {
            if (data.total) { bar.max = data.total; bar.value = data.done; } else { bar.removeAttribute("value"); }
          }
          if (data.state === "done" || data.state === "failed") {
            if (button) button.disabled = false;
            if (data.state === "done") {
              if (bar) bar.hidden = true;
              if (window.location.pathname === new URL(box.dataset.groupsUrl, window.location.href).pathname) {
                window.location.reload();
              } else if (link) { link.hidden = false; }
            }
            return;
          }
          setTimeout(poll, delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, 15000);
          if (label) label.textContent = "Connection lost, retrying…";
          setTimeout(poll, delay);
        });
    };
    poll();
  }

  document.querySelectorAll("[data-group-form]").forEach(function (form) {
    form.querySelectorAll("[data-tick]").forEach(function (button) {
      button.addEventListener("click", function () {
        var on = button.dataset.tick === "all";
        form.querySelectorAll('input[name="responses"]:not([disabled])').forEach(function (box) { box.checked = on; });
      });
    });
  });
})();
