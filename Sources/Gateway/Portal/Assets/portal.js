// aiwf portal: the little that needs a script. Every page works without it: the wizard then shows all its steps at
// once, and progress shows when the page is reloaded.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  live(document.querySelector("[data-live]"));
  project(document.querySelector("[data-project-live]"));
  var wizard = document.querySelector("form[data-wizard]");
  if (wizard) steps(wizard);
  document.querySelectorAll("input[type=range][data-output]").forEach(function (slider) {
    var output = document.getElementById(slider.getAttribute("data-output"));
    slider.addEventListener("input", function () { output.textContent = slider.value; });
  });
  document.querySelectorAll(".review-item").forEach(decisions);
  var problems = document.getElementById("problems");
  if (problems) problems.focus();
});

// The dashboard's cards follow their projects over server-sent events.
function live(list) {
  if (!list || !window.EventSource) return;
  var source = new EventSource(list.getAttribute("data-live"));
  source.addEventListener("project", function (message) {
    var frame = JSON.parse(message.data);
    var card = list.querySelector('[data-project="' + frame.projectID + '"]');
    if (!card) return;
    var progress = card.querySelector('[data-field="progress"]');
    if (progress) { progress.value = frame.progress; progress.textContent = frame.progress + "%"; }
    var state = card.querySelector('[data-field="state"]');
    if (state) { state.textContent = frame.stateLabel; state.className = "state state-" + frame.state; }
    var line = card.querySelector('[data-field="message"]');
    if (line) line.textContent = frame.message;
  });
}

// One step of the wizard at a time; "Next" checks the step's answers in the page before going on.
function steps(form) {
  var all = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-step]"));
  if (all.length < 2) return;
  var back = form.querySelector("[data-back]"), next = form.querySelector("[data-next]"), finish = form.querySelector("[data-finish]");
  var current = Math.max(0, all.findIndex(function (step) { return step.querySelector(".has-error"); }));
  function show(index, focus) {
    current = index;
    all.forEach(function (step, i) { step.hidden = i !== index; });
    back.hidden = index === 0;
    next.hidden = index === all.length - 1;
    finish.hidden = index !== all.length - 1;
    if (focus) { var first = all[index].querySelector("input, textarea, select"); if (first) first.focus(); }
  }
  function valid(step) {
    var controls = step.querySelectorAll("input, textarea, select");
    for (var i = 0; i < controls.length; i++) {
      if (!controls[i].checkValidity()) { controls[i].reportValidity(); return false; }
    }
    return true;
  }
  next.addEventListener("click", function () { if (valid(all[current])) show(current + 1, true); });
  back.addEventListener("click", function () { show(current - 1, true); });
  show(current, false);
}

// The project page: text appears as it is written; any other entry of the project's log brings the page up to date
// (the open previews stay open).
var LOGGED = ["approval.decided", "approval.requested", "artifact.created", "project.completed", "project.failed",
  "project.paused", "project.restarted", "project.resumed", "project.retried", "project.started", "stage.completed",
  "stage.entered", "stage.waiting", "task.completed", "task.failed", "task.queued", "task.resent", "task.streaming"];
function project(status) {
  if (!status || !window.EventSource || !window.fetch) return;
  var source = new EventSource(status.getAttribute("data-project-live"));
  var attempts = {};
  source.addEventListener("task.text", function (message) {
    var piece = JSON.parse(message.data);
    var box = document.querySelector('[data-live-text="' + piece.taskID + '"]');
    if (!box) return;
    if (attempts[piece.taskID] !== piece.attempt) { box.textContent = ""; attempts[piece.taskID] = piece.attempt; }
    box.textContent += piece.text;
  });
  var pending = null;
  function refresh() {
    pending = null;
    fetch(location.pathname, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (!html) return;
      var open = Array.prototype.map.call(document.querySelectorAll("details[open][data-task]"), function (d) { return d.getAttribute("data-task"); });
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
      if (!fresh) return;
      document.querySelector("main").innerHTML = fresh.innerHTML;
      open.forEach(function (id) { var d = document.querySelector('details[data-task="' + id + '"]'); if (d) d.open = true; });
    });
  }
  LOGGED.forEach(function (kind) {
    source.addEventListener(kind, function () { if (!pending) pending = setTimeout(refresh, 300); });
  });
}

// An approval item shows the feedback box or the editor only for the decision that needs it.
function decisions(item) {
  function update() {
    var chosen = item.querySelector("input[data-decision]:checked");
    item.querySelectorAll("[data-when]").forEach(function (field) {
      field.hidden = !chosen || field.getAttribute("data-when") !== chosen.value;
    });
  }
  item.querySelectorAll("input[data-decision]").forEach(function (radio) { radio.addEventListener("change", update); });
  update();
}
