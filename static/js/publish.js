/* Publication progress: poll the status JSON, fill the bar, list the templates that failed the pre-flight
   check (one styled row each, built with textContent: a message is author text), and show the state the
   server gives, until the publication is done or failed. */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-progress-label]");
  var stateBadge = box.querySelector("[data-publication-state]");
  var problemsBox = box.querySelector("[data-problems]");
  var list = box.querySelector("[data-problem-list]");
  var url = box.dataset.progressUrl;
  var delay = 1000;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(href, text) {
    var a = element("a", "", text);
    a.href = href;
    return a;
  }

  function showProblems(problems) {
    if (!problemsBox || !list) return;
    list.textContent = "";
    (problems || []).forEach(function (problem) {
      var row = element("li", "problem");
      row.appendChild(element("code", "problem-slug", problem.slug));
      row.appendChild(element("span", "badge " + (problem.excluded ? "pending" : "bad"),
        problem.excluded ? "left out of the draws" : "blocks publishing"));
      var where = "seed " + problem.seed + " · " + problem.cell + (problem.line ? ", line " + problem.line : "");
      row.appendChild(element("span", "problem-where", where));
      row.appendChild(element("span", "problem-message", problem.message));
      if (problem.fix_url) {
        var links = element("span", "problem-links");
        links.appendChild(link(problem.fix_url, "Fix the template"));
        links.appendChild(document.createTextNode(" · "));
        links.appendChild(link(problem.preview_url, "Preview it"));
        row.appendChild(links);
      }
      list.appendChild(row);
    });
    problemsBox.hidden = !(problems && problems.length);
  }

  function showState(data) {
    var published = data.state === "published";
    var text = published ? "Published" : (data.publishing ? "Publishing…" : "Not published");
    var style = published ? "open" : (data.publishing ? "pending" : "bad");
    if (stateBadge) { stateBadge.textContent = text; stateBadge.className = "badge " + style; }
    var factsBadge = document.querySelector("[data-state-badge]");
    if (factsBadge) { factsBadge.textContent = published ? "Published" : (data.publishing ? "Publishing…" : "Draft"); }
    box.dataset.state = data.state || "";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        delay = 1000;
        var total = data.total || 0, done = data.done || 0;
        if (total > 0) { bar.max = total; bar.value = done; } else { bar.removeAttribute("value"); }
        label.textContent = data.message || (total ? done + " of " + total + " variants ready" : "Starting…");
        showProblems(data.problems);
        showState(data);
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
