/* Pre-generation progress: poll the progress JSON and fill the bar until the job is done or failed. */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-progress-label]");
  var url = box.dataset.progressUrl;
  var delay = 1000;
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        delay = 1000;
        var total = data.total || 0, done = data.done || 0;
        if (total > 0) { bar.max = total; bar.value = done; } else { bar.removeAttribute("value"); }
        label.textContent = data.message || (total ? done + " of " + total + " variants ready" : "Starting…");
        box.dataset.status = data.status || "";
        if (data.status === "done" || data.status === "failed") {
          if (data.status === "done" && total) { bar.value = total; }
          return;
        }
        setTimeout(poll, delay);
      })
      .catch(function () { delay = Math.min(delay * 2, 15000); label.textContent = "Connection lost, retrying…"; setTimeout(poll, delay); });
  }
  poll();
})();
