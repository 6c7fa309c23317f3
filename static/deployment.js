// A deployment's page: poll its status every second while the build runs, streaming the
// build logs into the page; reload once it is final so the actions match the new state.
(function () {
  "use strict";
  const panel = document.getElementById("deployment");
  if (!panel || panel.dataset.final === "true") return;
  const logs = document.getElementById("build-logs");
  const status = document.getElementById("deployment-status");
  const duration = document.getElementById("deployment-duration");
  const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g; // terminal colours in the build output

  function atBottom() {
    return logs.scrollHeight - logs.scrollTop - logs.clientHeight < 40;
  }

  let length = Number(logs.dataset.length); // characters of build output on the page

  function show(data) {
    const follow = atBottom();
    const text = data.buildLogs.replace(ANSI, "");
    if (data.logsFrom > 0) logs.textContent += text; // only what is new since the last poll
    else if (data.logsLength) logs.textContent = text; // from the start (first output, or reset)
    length = data.logsLength;
    if (follow) logs.scrollTop = logs.scrollHeight;
    status.innerHTML = "";
    const mark = document.createElement("mark");
    mark.className = "status status-" + data.status;
    mark.textContent = data.status;
    status.appendChild(mark);
    if (data.final) duration.textContent = data.buildDuration + " s";
  }

  let leaving = false; // a button was pressed: its page comes next, not a reload
  document.addEventListener("submit", () => { leaving = true; });

  async function poll() {
    if (leaving) return;
    try {
      const url = panel.dataset.statusUrl + "?since=" + length;
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        show(data);
        if (data.final && !leaving) return window.location.reload();
      }
    } catch (error) {
      // The server may restart: keep polling.
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
