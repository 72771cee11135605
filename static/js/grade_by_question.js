/* Grading by question: j/k or the arrow keys move between answers (past the end of a page: the next or the
   previous page), 1-9 toggle the focused answer's rubric items, s saves it and the page comes back at the next
   answer, on whichever page it now is. Keys typed into a field are left alone. */
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-grading-card]"));
  if (!cards.length) return;
  var list = document.querySelector("[data-grading-list]");
  var current = 0;

  function goToPage(which, hash) {  // the list is paginated: j past the last answer opens the next page
    var query = list && list.dataset[which];
    if (!query) return false;
    window.location.href = window.location.pathname + query + (hash || "");
    return true;
  }

  function focusCard(index) {
    if (index < 0 || index >= cards.length) return;
    if (cards[current]) cards[current].classList.remove("grading-current");
    current = index;
    cards[current].classList.add("grading-current");
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest" });
  }

  cards.forEach(function (card, index) {
    card.addEventListener("focusin", function () {
      if (current !== index) {
        if (cards[current]) cards[current].classList.remove("grading-current");
        current = index;
        card.classList.add("grading-current");
      }
    });
    var form = card.querySelector("[data-grading-form]");
    if (form) {
      form.addEventListener("submit", function () {
        var next = form.querySelector("[data-next-id]");
        if (next && cards[index + 1]) next.value = cards[index + 1].dataset.response;
        else if (next && list && list.dataset.nextFirst) next.value = list.dataset.nextFirst;
      });
    }
  });

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "checkbox");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var card = cards[current];
    if (event.key === "j" || event.key === "ArrowDown") {
      event.preventDefault();
      if (current === cards.length - 1) goToPage("nextPage"); else focusCard(current + 1);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      event.preventDefault();
      if (current === 0) goToPage("previousPage", "#last"); else focusCard(current - 1);
    } else if (/^[1-9]$/.test(event.key)) {
      var box = card.querySelector('[data-item-key="' + event.key + '"]');
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
      }
    } else if (event.key === "s") {
      var form = card.querySelector("[data-grading-form]");
      if (form) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    }
  });

  var start = window.location.hash === "#last" ? cards.length - 1
    : cards.findIndex(function (card) { return "#" + card.id === window.location.hash; });
  focusCard(start >= 0 ? start : 0);
})();
