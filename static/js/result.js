/* Result page while the closed attempt is still being submitted: reload until the submission shows. */
(function () {
  "use strict";
  var state = document.querySelector("[data-reload-after-ms]");
  if (!state) return;
  var delay = parseInt(state.dataset.reloadAfterMs, 10) || 5000;
  setTimeout(function () { window.location.reload(); }, delay);
})();
