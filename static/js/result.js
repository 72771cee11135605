/* Result page: reload until the submission shows (the attempt is being closed), or while a machine grades an
   answer (data-reload-url carries the round, so the server spaces the reloads out and stops them). */
(function () {
  "use strict";
  var state = document.querySelector("[data-reload-after-ms]");
  if (!state) return;
  var delay = parseInt(state.dataset.reloadAfterMs, 10) || 5000;
  var target = state.dataset.reloadUrl;
  setTimeout(function () {
    if (target) window.location.replace(target);
    else window.location.reload();
  }, delay);
})();
