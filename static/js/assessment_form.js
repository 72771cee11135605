/* The assessment editor: add table rows, filter the template picker, and refresh the pool counts as the
   blueprint changes (the server computes them; without JS, "Check pools" does the same). */
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form) return;

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var body = document.querySelector("#" + button.dataset.addRow + " tbody");
      var last = body.querySelector("tr:last-child");
      if (!last) return;
      var row = last.cloneNode(true);
      row.querySelectorAll("input, select").forEach(function (input) {
        if (input.tagName === "SELECT") input.selectedIndex = 0; else input.value = "";
        var label = input.getAttribute("aria-label");
        if (label) input.setAttribute("aria-label", label.replace(/\d+$/, String(body.rows.length + 1)));
      });
      body.appendChild(row);
      row.querySelector("input, select").focus();
    });
  });

  var search = document.querySelector("[data-picker-search]");
  if (search) {
    search.addEventListener("input", function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      document.querySelectorAll("#picker tr[data-search]").forEach(function (row) {
        var text = row.dataset.search;
        row.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
      });
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();  // searching must not submit the form
    });
  }

  var summary = document.querySelector("[data-picked-summary]");
  function countPicked() {
    if (summary) summary.textContent = form.querySelectorAll("input[name=picked]:checked").length + " picked";
  }

  var report = document.getElementById("pool-report");
  var url = form.dataset.poolsUrl;
  var timer = null;
  var sequence = 0;
  function refreshPools() {
    if (!report || !url || form.querySelector("fieldset[disabled]")) return;
    var mine = ++sequence;
    var data = new FormData(form);
    fetch(url, {method: "POST", body: data, credentials: "same-origin",
                headers: {"X-CSRFToken": data.get("csrfmiddlewaretoken")}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (result && mine === sequence) {
          report.innerHTML = result.html;
          report.dataset.refreshed = String(mine);
        }
      })
      .catch(function () { /* the Check pools button still works */ });
  }
  function schedule() {
    countPicked();
    clearTimeout(timer);
    timer = setTimeout(refreshPools, 300);
  }
  var blueprint = document.getElementById("blueprint");
  if (blueprint) {
    blueprint.addEventListener("input", function (event) {
      if (event.target.matches("[data-picker-search], #preset-lectures")) return;
      schedule();
    });
    blueprint.addEventListener("change", function (event) {
      if (event.target.matches("[data-picker-search], #preset-lectures")) return;
      schedule();
    });
  }
})();
