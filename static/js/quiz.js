/* The quiz page: server-owned countdown, autosave with retry, local backup, submit with confirmation.
 *
 * Contract with the server (exams/views/student.py):
 *   form#quiz data-save-url     POST JSON {slot, response}      -> 200 {ok, slot, saved_at, remaining_seconds,
 *                                                                      format: {valid, message}}
 *                                                              -> 4xx {ok: false, error, closed}
 *   form#quiz data-state-url    GET                             -> {state, open, remaining_seconds}
 *   form#quiz data-submit-url   POST (form)                     -> redirect to the attempt page
 *   form#quiz data-remaining    seconds left when the page was rendered
 * Every question is a section.question[data-slot] (data-format-valid: can the saved answer be read); its answer
 * control has name="slot-N"; p[data-format-feedback] next to it shows the server's format verdict.
 * A save refused with a 4xx is not sent again until the text changes; network errors and 5xx are retried.
 * Nothing here decides what is accepted: the server checks owner, state and deadline on every save.
 */
(function () {
  "use strict";

  var form = document.getElementById("quiz");
  if (!form) return;

  var SAVE_URL = form.dataset.saveUrl;
  var STATE_URL = form.dataset.stateUrl;
  var SUBMIT_URL = form.dataset.submitUrl;
  var ATTEMPT_ID = form.dataset.attemptId;
  var DEBOUNCE_MS = 1000;
  var RESYNC_MS = 20000;
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var STORAGE_PREFIX = "dlquiz:attempt:" + ATTEMPT_ID + ":slot:";

  var globalStatus = document.getElementById("global-save-status");
  var countdownEl = document.getElementById("countdown");
  var countdownLive = document.getElementById("countdown-live");
  var offlineNotice = document.getElementById("offline-notice");
  var supersededNotice = document.getElementById("superseded-notice");

  // --- helpers -------------------------------------------------------------------------------------
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function storageGet(slot) {
    try { return JSON.parse(window.localStorage.getItem(STORAGE_PREFIX + slot) || "null"); } catch (e) { return null; }
  }
  function storageSet(slot, value) {
    try { window.localStorage.setItem(STORAGE_PREFIX + slot, JSON.stringify({ value: value, ts: Date.now() })); } catch (e) { /* private mode or full */ }
  }
  function storageClear(slot) {
    try { window.localStorage.removeItem(STORAGE_PREFIX + slot); } catch (e) { /* ignore */ }
  }

  // --- questions -----------------------------------------------------------------------------------
  // slot -> {section, status, feedback, kind, editor, confirmed, inFlight, timer, formatValid, formatMessage,
  //          refusedValue (text the server refused for good: not sent again until it changes)}
  var questions = {};
  var editorsReady = [];

  function readValue(q) {
    if (q.editor) return q.editor.getValue();
    if (q.kind === "radio") {
      var checked = q.section.querySelector("input[type=radio]:checked");
      return checked ? checked.value : "";
    }
    var field = q.section.querySelector("[name='slot-" + q.slot + "']");
    return field ? field.value : "";
  }
  // What the server holds, as it rendered the page: anything else in the field was typed before this
  // script ran (the editors load first) and still has to be saved.
  function readServerValue(q) {
    if (q.kind === "radio") {
      var radios = q.section.querySelectorAll("input[type=radio]");
      for (var i = 0; i < radios.length; i++) if (radios[i].defaultChecked) return radios[i].value;
      return "";
    }
    var field = q.section.querySelector("[name='slot-" + q.slot + "']");
    return field ? field.defaultValue : "";
  }
  function writeValue(q, value) {
    if (q.editor) { q.editor.setValue(value); return; }
    if (q.kind === "radio") {
      var radios = q.section.querySelectorAll("input[type=radio]");
      for (var i = 0; i < radios.length; i++) radios[i].checked = radios[i].value === value;
      return;
    }
    var field = q.section.querySelector("[name='slot-" + q.slot + "']");
    if (field) field.value = value;
  }

  var STATUS_TEXT = {
    saved: "Saved",
    unreadable: "Saved — can't be read",
    saving: "Saving…",
    unsaved: "Saving…",
    offline: "Connection lost, retrying…",
    error: "Not saved",
    idle: ""
  };
  function setStatus(q, state, detail) {
    q.state = state;
    if (q.status) {
      q.status.dataset.state = state;
      q.status.textContent = detail || STATUS_TEXT[state];
    }
    updateGlobalStatus();
  }
  function updateGlobalStatus() {
    var states = Object.keys(questions).map(function (slot) { return questions[slot].state; });
    var state = "idle";
    if (states.indexOf("offline") >= 0) state = "offline";
    else if (states.indexOf("error") >= 0) state = "error";
    else if (states.indexOf("saving") >= 0 || states.indexOf("unsaved") >= 0) state = "saving";
    else if (states.indexOf("saved") >= 0 || states.indexOf("unreadable") >= 0) state = "saved";
    var text = { saved: "All answers saved", saving: "Saving…", offline: "Connection lost: answers kept on this device",
                 error: "Some answers were not saved", idle: "" }[state];
    if (superseded) { state = "error"; text = "Not saving in this tab"; }
    globalStatus.dataset.state = state;
    globalStatus.textContent = text;
    if (offlineNotice) offlineNotice.hidden = state !== "offline" || superseded;
  }
  function isUnanswered(q) {
    var value = readValue(q).trim();
    return value === "" || (q.editor && value === (q.section.dataset.starter || "").trim());
  }
  function isRefused(q) { return q.refusedValue !== null && readValue(q) === q.refusedValue; }
  function hasUnsaved() {
    return Object.keys(questions).some(function (slot) {
      var q = questions[slot];
      return q.inFlight || (readValue(q) !== q.confirmed && !isRefused(q));
    });
  }
  function hasRefused() {
    return Object.keys(questions).some(function (slot) { return isRefused(questions[slot]); });
  }

  // --- format feedback: can the saved answer be read (never whether it is right) ------------------
  function setFeedback(q, state, text) {
    if (!q.feedback) return;
    q.feedback.dataset.state = state;
    q.feedback.textContent = text;
  }
  function showFormat(q) {
    if (!q.formatValid) setFeedback(q, "invalid", "Saved — but it can't be read: " + q.formatMessage);
    else if (q.formatMessage) setFeedback(q, "note", q.formatMessage);
    else setFeedback(q, "", "");
  }
  function savedState(q) { return q.formatValid ? "saved" : "unreadable"; }
  function refused(q, value, message) {
    q.refusedValue = value;
    storageSet(q.slot, value);
    var reason = (message || "the server refused it").replace(/[.\s]+$/, "");
    setStatus(q, "error", "Not saved");
    setFeedback(q, "refused", "This answer was not saved: " + reason + ". It is kept on this device.");
  }

  // --- saving --------------------------------------------------------------------------------------
  // A save's sequence number: when the server rendered this page (ms since 1970, the server's clock, so a
  // device whose clock is wrong is still ordered right) times 2^21 plus a counter. The server ignores a save
  // older than the one it holds, so once a newer tab or device has saved a question, the older page's saves
  // of it come back "stale" and that page stops saving (below). Stays under 2^62 until the year 2039.
  var TAB_STARTED = Number(form.dataset.loadedMs) || Date.now();
  var TAB_ID = TAB_STARTED + "-" + Math.random().toString(36).slice(2);
  var seqCounter = 0;
  function nextSeq() { seqCounter = Math.min(seqCounter + 1, 2097151); return TAB_STARTED * 2097152 + seqCounter; }
  var backoffStep = 0;
  var retryTimer = null;
  var closed = false;
  var superseded = false;

  function changed(q) {
    if (closed || superseded) return;
    var value = readValue(q);
    if (value === q.confirmed && !q.inFlight) { storageClear(q.slot); setStatus(q, savedState(q)); showFormat(q); return; }
    storageSet(q.slot, value);
    if (value === q.refusedValue) { clearTimeout(q.timer); return; }  // still refused: the message stays
    if (q.state !== "offline") setStatus(q, "unsaved");
    clearTimeout(q.timer);
    q.timer = setTimeout(function () { save(q); }, DEBOUNCE_MS);
  }
  function flush(q) {
    clearTimeout(q.timer);
    return save(q);
  }

  function save(q) {
    if (closed || superseded) return Promise.resolve();
    if (q.inFlight) { q.again = true; return q.inFlight; }
    var value = readValue(q);
    if (value === q.confirmed) { storageClear(q.slot); if (q.state !== "idle") { setStatus(q, savedState(q)); showFormat(q); } return Promise.resolve(); }
    if (value === q.refusedValue) return Promise.resolve();  // the server refused this text; wait for a change
    if (q.state !== "offline") setStatus(q, "saving");
    q.inFlight = fetch(SAVE_URL, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
      body: JSON.stringify({ slot: Number(q.slot), response: value, seq: nextSeq() })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (result) {
      q.inFlight = null;
      if (result.status >= 200 && result.status < 300 && result.data.ok && result.data.stale) {
        // Not saved: another tab or device has saved this question since this page was loaded.
        storageSet(q.slot, value);
        setStatus(q, "error", "Not saved");
        supersede();
        return;
      }
      if (result.status >= 200 && result.status < 300 && result.data.ok) {
        backoffStep = 0;
        q.confirmed = value;
        q.refusedValue = null;
        var verdict = result.data.format;
        if (verdict && !result.data.stale) {
          q.formatValid = verdict.valid !== false;
          q.formatMessage = verdict.message || "";
        }
        if (typeof result.data.remaining_seconds === "number") syncClock(result.data.remaining_seconds);
        if (readValue(q) === value) { storageClear(q.slot); setStatus(q, savedState(q)); showFormat(q); }
        else { storageSet(q.slot, readValue(q)); return save(q); }
        if (q.again) { q.again = false; return save(q); }
        return;
      }
      if (result.status === 429 || result.status >= 500) { throw new Error("server " + result.status); }
      // Refused for good (closed attempt, past the deadline, not yours, bad input): keep the local copy.
      if (result.data.closed) { setStatus(q, "error", result.data.error || "Not saved"); attemptClosed(result.data.error); return; }
      refused(q, value, result.data.error || ("the server refused it (HTTP " + result.status + ")"));
      q.again = false;
      if (readValue(q) !== value) return save(q);  // typed on meanwhile: the new text may well be accepted
    }, function () { q.inFlight = null; throw new Error("network"); })
      .catch(function () {
        q.inFlight = null;
        q.again = false;
        setStatus(q, "offline");
        scheduleRetry();
      });
    return q.inFlight;
  }

  function scheduleRetry() {
    if (retryTimer || closed) return;
    var delay = BACKOFF_MS[Math.min(backoffStep, BACKOFF_MS.length - 1)];
    backoffStep += 1;
    retryTimer = setTimeout(retryAll, delay);
  }
  function retryAll() {
    clearTimeout(retryTimer);
    retryTimer = null;
    Object.keys(questions).forEach(function (slot) {
      var q = questions[slot];
      if (q.state === "offline" || (readValue(q) !== q.confirmed && !q.inFlight)) save(q);
    });
  }
  window.addEventListener("online", function () { backoffStep = 0; retryAll(); });

  function flushAll() {
    return Promise.all(Object.keys(questions).map(function (slot) { return flush(questions[slot]); }));
  }

  // --- clock ---------------------------------------------------------------------------------------
  var deadline = null;  // performance.now() at which time runs out
  var timeUp = false;

  function syncClock(remainingSeconds) {
    deadline = performance.now() + remainingSeconds * 1000;
    renderClock();
  }
  function remainingSeconds() {
    return deadline === null ? Infinity : Math.max(0, (deadline - performance.now()) / 1000);
  }
  function formatSeconds(total) {
    total = Math.ceil(total);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }
  var lastAnnounced = null;
  function renderClock() {
    if (deadline === null) return;
    var left = remainingSeconds();
    if (left <= 0 && !timeUp && !superseded) onTimeUp();
    if (!countdownEl) return;
    countdownEl.textContent = formatSeconds(left);
    countdownEl.classList.toggle("low", left <= 300 && left > 60);
    countdownEl.classList.toggle("over", left <= 60);
    var minutes = Math.ceil(left / 60);
    if (countdownLive && (minutes === 5 || minutes === 1) && lastAnnounced !== minutes) {
      lastAnnounced = minutes;
      countdownLive.textContent = minutes + (minutes === 1 ? " minute" : " minutes") + " left.";
    }
  }
  function resync() {
    if (closed) return;
    fetch(STATE_URL, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (typeof data.remaining_seconds === "number") syncClock(data.remaining_seconds);
        if (data.open === false) attemptClosed();
      })
      .catch(function () { /* offline: the local clock keeps counting */ });
  }

  function onTimeUp() {
    timeUp = true;
    document.getElementById("time-up-notice").hidden = false;
    // Send what is typed (the server accepts saves within a short grace), then submit.
    var flushed = Promise.race([flushAll(), new Promise(function (resolve) { setTimeout(resolve, 4000); })]);
    flushed.then(function () { closed = true; return postSubmit(); })
      .then(function () { window.location.reload(); },
            function () {
              // Offline: the server closes the attempt on its own; reload when we can reach it.
              setTimeout(function retry() { postSubmit().then(function () { window.location.reload(); }, function () { setTimeout(retry, 5000); }); }, 5000);
            });
  }
  function postSubmit() {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrfToken());
    body.append("reason", timeUp ? "timeout" : "student");
    return fetch(SUBMIT_URL, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
      .then(function (r) { if (!r.ok && r.status >= 500) throw new Error("server"); return r; });
  }
  function attemptClosed(message) {
    if (closed && timeUp) return;
    closed = true;
    var notice = document.getElementById("closed-notice");
    if (notice) { notice.hidden = false; if (message) notice.querySelector("[data-message]").textContent = message; }
    setTimeout(function () { window.location.reload(); }, 2500);
  }

  // --- one saving tab per attempt -----------------------------------------------------------------------
  // Two tabs saving the same attempt would overwrite each other, each showing "Saved". The newest page
  // announces itself; older tabs of this browser stop saving at once (other devices learn it from a stale save).
  function supersede() {
    if (superseded || closed) return;
    superseded = true;
    Object.keys(questions).forEach(function (slot) { clearTimeout(questions[slot].timer); });
    clearTimeout(retryTimer);
    form.inert = true;
    form.classList.add("superseded");
    if (supersededNotice) supersededNotice.hidden = false;
    updateGlobalStatus();
  }
  var channel = null;
  try { channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("dlquiz:attempt:" + ATTEMPT_ID) : null; } catch (e) { channel = null; }
  if (channel) {
    channel.onmessage = function (event) {
      var data = event.data || {};
      if (data.type === "hello" && data.tab !== TAB_ID) supersede();
    };
    channel.postMessage({ type: "hello", tab: TAB_ID });
  }
  var useThisTab = document.getElementById("use-this-tab");
  // A fresh load reads what the server holds now, sends what only this tab had typed, and takes over.
  if (useThisTab) useThisTab.addEventListener("click", function () { window.location.reload(); });

  // --- submit with confirmation -------------------------------------------------------------------
  var dialog = document.getElementById("submit-dialog");
  function questionLink(n, text) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = "#q" + n; a.textContent = "Question " + n;
    a.addEventListener("click", function () { dialog.close(); });
    li.appendChild(a);
    if (text) li.appendChild(document.createTextNode(text));
    return li;
  }
  function renderSubmitDialog() {
    var all = Object.keys(questions).map(function (slot) { return questions[slot]; });
    var unanswered = all.filter(isUnanswered);
    // Verdicts are for the saved text; an answer still being saved is judged again when its save returns.
    var unreadable = all.filter(function (q) { return !isUnanswered(q) && !q.formatValid && readValue(q) === q.confirmed; });
    var list = dialog.querySelector("[data-unanswered]");
    var summary = dialog.querySelector("[data-summary]");
    list.innerHTML = "";
    unanswered.forEach(function (q) { list.appendChild(questionLink(q.number)); });
    summary.textContent = unanswered.length === 0 ? "You have answered every question."
      : "You have not answered " + unanswered.length + (unanswered.length === 1 ? " question:" : " questions:");
    var unreadableList = dialog.querySelector("[data-unreadable]");
    unreadableList.innerHTML = "";
    unreadable.forEach(function (q) { unreadableList.appendChild(questionLink(q.number, " can't be read: " + q.formatMessage)); });
    dialog.querySelector("[data-unreadable-block]").hidden = unreadable.length === 0;
    dialog.querySelector("[data-not-saved]").hidden = !hasRefused();
    dialog.querySelector("[data-unsaved]").hidden = !hasUnsaved();
    return summary.textContent + (unreadable.length ? " " + unreadable.length + " answer(s) can't be read." : "");
  }
  form.addEventListener("submit", function (event) {
    if (form.dataset.confirmed === "yes") return;
    event.preventDefault();
    var text = renderSubmitDialog();
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
      flushAll().then(function () { if (dialog.open) renderSubmitDialog(); });  // what was just typed gets its verdict
    } else if (window.confirm(text + " Submit now?")) confirmSubmit();
  });
  function confirmSubmit() {
    var button = dialog.querySelector("[data-confirm]");
    button.disabled = true; button.textContent = "Submitting…";
    Promise.race([flushAll(), new Promise(function (resolve) { setTimeout(resolve, 5000); })]).then(function () {
      closed = true;
      form.dataset.confirmed = "yes";
      form.submit();
    });
  }
  if (dialog) {
    dialog.querySelector("[data-confirm]").addEventListener("click", confirmSubmit);
    dialog.querySelector("[data-cancel]").addEventListener("click", function () { dialog.close(); });
  }

  // --- start -----------------------------------------------------------------------------------------
  var sections = form.querySelectorAll("section.question[data-slot]");
  Array.prototype.forEach.call(sections, function (section) {
    var slot = section.dataset.slot;
    var feedback = section.querySelector("[data-format-feedback]");
    var q = { slot: slot, number: section.dataset.number, section: section, kind: section.dataset.kind,
              status: section.querySelector(".save-status"), feedback: feedback, editor: null, state: "idle",
              inFlight: null, refusedValue: null, formatValid: section.dataset.formatValid !== "false",
              formatMessage: feedback ? (feedback.dataset.message || "") : "" };
    questions[slot] = q;
    var textarea = section.querySelector("textarea[data-editor=python]");
    if (textarea && window.CodeMirror) {
      q.editor = window.CodeMirror.fromTextArea(textarea, {
        mode: "python", lineNumbers: true, indentUnit: 4, tabSize: 4, matchBrackets: true, viewportMargin: Infinity,
        screenReaderLabel: textarea.getAttribute("aria-label") || "Code editor",
        extraKeys: {
          Tab: function (cm) { if (cm.somethingSelected()) cm.indentSelection("add"); else cm.replaceSelection("    ", "end"); },
          "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
          Esc: function (cm) { cm.getInputField().blur(); }
        }
      });
      q.editor.on("change", function (cm) { cm.save(); changed(q); });
      q.editor.on("blur", function () { flush(q); });
      editorsReady.push(q.editor);
    }
    q.confirmed = readServerValue(q);
    if (readValue(q) !== q.confirmed) setTimeout(function () { changed(q); }, 0);
    var serverSavedAt = Number(section.dataset.savedAt || 0);
    var local = storageGet(slot);
    if (local && typeof local.value === "string") {
      if (local.value !== q.confirmed && local.ts > serverSavedAt) {
        writeValue(q, local.value);  // typed here but never confirmed by the server: send it again
        setTimeout(function () { changed(q); }, 0);
      } else {
        storageClear(slot);
      }
    }
    if (serverSavedAt > 0 && q.state === "idle") setStatus(q, savedState(q));  // only what the server really holds
    if (!q.editor) {
      section.addEventListener("input", function () { changed(q); });
      section.addEventListener("change", function (event) {
        if (event.target.type === "radio") flush(q); else changed(q);
      });
      section.addEventListener("focusout", function () { if (readValue(q) !== q.confirmed) flush(q); });
      section.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && event.target.tagName === "INPUT") { event.preventDefault(); flush(q); }
      });
    }
  });
  updateGlobalStatus();

  if (form.dataset.remaining !== "") syncClock(Number(form.dataset.remaining));
  setInterval(renderClock, 250);
  setInterval(resync, RESYNC_MS);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") resync(); else flushAll(); });
  window.addEventListener("beforeunload", function (event) {
    if (!closed && !superseded && (hasUnsaved() || hasRefused())) { flushAll(); event.preventDefault(); event.returnValue = ""; }
  });

  // A question a worker is still generating (not pre-generated for this student): ask until it is there,
  // then reload once every typed answer is saved. The server asks the worker again if a request was lost.
  if (form.querySelector("[data-preparing]")) {
    var waitForQuestions = function () {
      if (closed) return;
      fetch(STATE_URL + "?waiting=1", { credentials: "same-origin", headers: { "X-Requested-With": "fetch" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.questions_ready) {
            var reload = function () { window.location.reload(); };  // unsaved text is in the local backup
            flushAll().then(reload, reload);
          } else {
            setTimeout(waitForQuestions, 1500);
          }
        })
        .catch(function () { setTimeout(waitForQuestions, 3000); });
    };
    setTimeout(waitForQuestions, 1000);
  }

  window.dlquiz = { flushAll: flushAll, questions: questions, remainingSeconds: remainingSeconds };
})();
