/* Grading page: the quick-score buttons fill the score field named by their group's data-quick-score-target. */
(function () {
  "use strict";
  document.querySelectorAll("[data-quick-score-target]").forEach(function (group) {
    var field = document.getElementById(group.dataset.quickScoreTarget);
    if (!field) return;
    group.querySelectorAll("[data-quick-score]").forEach(function (button) {
      button.addEventListener("click", function () { field.value = button.dataset.quickScore; });
    });
  });
})();
