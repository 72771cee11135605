/* Typeset the \(..\) and \[..\] spans that quizbank.rendering leaves in stems, options and feedback. */
(function () {
  "use strict";
  function typeset() {
    if (typeof window.renderMathInElement !== "function") return;
    var scopes = document.querySelectorAll(".stem, .option-text, .feedback, .math-scope");
    Array.prototype.forEach.call(scopes, function (element) {
      window.renderMathInElement(element, {
        delimiters: [
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false }
        ],
        throwOnError: false,
        ignoredClasses: ["highlight", "CodeMirror"]
      });
    });
    document.documentElement.dataset.mathReady = "yes";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", typeset); else typeset();
})();
