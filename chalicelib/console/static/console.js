// The console's little script: the chunked upload of an exchange file, and the 30-day charts
// (Chart.js, from the npm package `make setup` installs; nothing here draws by hand).
"use strict";

async function post(url, csrf, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/octet-stream" },
    body: body || new Uint8Array(0),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error || response.statusText), { older: !!data.older });
  return data;
}

async function upload(button) {
  const input = document.getElementById("upload-file");
  const status = document.getElementById("upload-status");
  const file = input.files[0];
  if (!file) { status.textContent = "выберите файл"; return; }
  const csrf = button.dataset.csrf;
  const name = encodeURIComponent(file.name);
  const base = document.body.dataset.base || "";
  button.disabled = true;
  try {
    const started = await post(`${base}/console/upload/start?filename=${name}`, csrf);
    const query = `filename=${name}&upload=${started.upload}`;
    for (let offset = 0, part = 1; offset < file.size; offset += started.chunk, part += 1) {
      status.textContent = `отправляется часть ${part}…`;
      const chunk = new Uint8Array(await file.slice(offset, offset + started.chunk).arrayBuffer());
      await post(`${base}/console/upload/chunk?${query}`, csrf, chunk);
    }
    status.textContent = "загружается…";
    let finished;
    try {
      finished = await post(`${base}/console/upload/finish?${query}`, csrf);
    } catch (error) {  // a file older than the shop's data: only when the person says so
      if (!error.older || !window.confirm(error.message)) throw error;
      finished = await post(`${base}/console/upload/finish?${query}&confirm=1`, csrf);
    }
    window.location.href = `${base}/console/exchanges/${finished.exchange}`;
  } catch (error) {
    status.textContent = `не загрузилось: ${error.message}`;
    button.disabled = false;
  }
}

function charts() {
  const holder = document.getElementById("charts");
  if (!holder || typeof Chart === "undefined") return;
  const s = JSON.parse(holder.dataset.series);
  const counts = { y: { beginAtZero: true, suggestedMax: 1, ticks: { precision: 0 } } };
  const draw = (type, id, datasets, scales) =>
    new Chart(document.getElementById(id), {
      type,
      data: { labels: s.labels, datasets },
      options: { animation: false, responsive: true, plugins: { legend: { display: datasets.length > 1 } }, scales },
    });
  draw("bar", "chart-changed", [{ label: "записей", data: s.changed }], counts);
  draw("bar", "chart-seconds", [{ label: "секунд", data: s.seconds }], { y: { beginAtZero: true, suggestedMax: 1 } });
  draw("bar", "chart-orders", [{ label: "оформлено", data: s.placed }, { label: "принято 1С", data: s.taken }], counts);
  draw("line", "chart-webhooks", [{ label: "%", data: s.webhook_ok, spanGaps: true }], { y: { min: 0, max: 100 } });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  }
  const button = document.getElementById("upload-button");
  if (button) button.addEventListener("click", () => upload(button));
  charts();
});
