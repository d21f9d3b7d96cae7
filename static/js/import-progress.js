// Import progress: polls the job's status.json every second, moves the bar, updates the text and
// reloads the page when the job has finished. The page works without it (a «Refresh» link).

const POLL_MS = 1000;
const MAX_FAILURES = 30;

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function follow(box) {
  const url = box.dataset.statusUrl;
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  const announce = box.querySelector("[data-progress-announce]");
  const template = box.dataset.template || "{phase}: {processed} / {total}";
  let phases = {};
  try {
    phases = JSON.parse(box.dataset.phases || "{}");
  } catch {
    phases = {};
  }
  let failures = 0;
  let announced = "";

  async function poll() {
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const s = await response.json();
      failures = 0;
      if (s.done) {
        window.location.reload();
        return;
      }
      const total = Math.max(Number(s.total) || 0, 0);
      const processed = Math.min(Number(s.processed) || 0, total || Infinity);
      bar.max = Math.max(total, 1);
      bar.value = processed;
      bar.textContent = `${processed} / ${total}`;
      const message = fill(template, { phase: phases[s.phase] || phases[s.status] || "", processed, total });
      if (text) text.textContent = message;
      // Screen readers hear the phase and every tenth, not a number each second.
      const step = total ? Math.floor((processed * 10) / total) : 0;
      const key = `${s.phase}:${step}`;
      if (announce && key !== announced) {
        announce.textContent = message;
        announced = key;
      }
    } catch {
      failures += 1;
      if (failures >= MAX_FAILURES) return; // the «Refresh» link stays
    }
    window.setTimeout(poll, POLL_MS);
  }

  window.setTimeout(poll, POLL_MS);
}

const box = document.getElementById("import-progress");
if (box && box.dataset.statusUrl) follow(box);
