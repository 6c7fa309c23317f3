// An execution's page: while it waits or runs, poll its status every second and reload
// the page once it has finished, to show its response, logs and errors.
(function () {
  "use strict";
  const panel = document.getElementById("execution");
  if (!panel || !["waiting", "processing"].includes(panel.dataset.status)) return;

  async function poll() {
    try {
      const data = await (await fetch(panel.dataset.statusUrl)).json();
      if (data.final) return window.location.reload();
    } catch (error) {
      // keep polling
    }
    window.setTimeout(poll, 1000);
  }

  window.setTimeout(poll, 1000);
})();
