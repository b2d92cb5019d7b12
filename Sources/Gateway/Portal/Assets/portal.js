// aiwf portal: the little that needs a script. Live progress over server-sent events; the pages work without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var list = document.querySelector("[data-live]");
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
});
