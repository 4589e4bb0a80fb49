// The workbench: starting evaluations and audits, watching a run, managing keys. Every action goes through the
// management API (/api/…) with the session's CSRF token; messages come from the server in the reader's language.
"use strict";

function csrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function api(method, url, body, isForm = false) {
  const headers = { accept: "application/json", "x-csrf-token": csrf() };
  if (body !== undefined && !isForm) headers["content-type"] = "application/json";
  const response = await fetch(url, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

function chosen(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
}

function number(form, name) {
  const value = form.elements[name].value;
  return value === "" ? null : Number(value);
}

function runRequest(form) {
  return { models: chosen(form, "models"), suites: chosen(form, "suites"),
           max_cost_usd: number(form, "max_cost_usd"), limit: number(form, "limit") };
}

function lang() {
  return document.documentElement.lang || "en";
}

async function upload(input) {
  const status = document.getElementById("upload-status");
  const file = input.files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  status.className = "muted";
  status.textContent = "…";
  try {
    const suite = await api("POST", `/api/suites?lang=${lang()}`, data, true);
    const label = document.createElement("label");
    label.className = "pick";
    const box = Object.assign(document.createElement("input"), { type: "checkbox", name: "suites", value: suite.suite,
                                                                  checked: true });
    label.append(box, ` ${suite.name} (${suite.items})`);
    document.getElementById("suite-picks").append(label);
    status.textContent = suite.message;
  } catch (error) {
    status.className = "error";
    status.textContent = error.message;
  }
  input.value = "";
}

async function estimate(form) {
  const shown = document.getElementById("estimate-result");
  const problem = document.getElementById("start-problem");
  problem.textContent = "";
  try {
    const found = await api("POST", `/api/estimate?lang=${lang()}`, runRequest(form));
    shown.textContent = found.message;
    shown.hidden = false;
  } catch (error) {
    problem.textContent = error.message;
  }
}

async function startRun(form) {
  const problem = document.getElementById("start-problem");
  problem.textContent = "";
  try {
    const started = await api("POST", "/api/runs", runRequest(form));
    window.location.href = `/runs/${encodeURIComponent(started.run_id)}/live`;
  } catch (error) {
    problem.textContent = error.message;
  }
}

async function startAudit(form) {
  const status = document.getElementById("audit-status");
  const body = Object.fromEntries(new FormData(form).entries());
  status.className = "muted";
  try {
    let job = await api("POST", "/api/audits", body);
    while (job.status === "queued" || job.status === "running") {
      status.textContent = job.message;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      job = await api("GET", `/api/audits/jobs/${job.job_id}?lang=${lang()}`);
    }
    status.textContent = job.message;
    if (job.audit_id) window.location.href = `/audits/${encodeURIComponent(job.audit_id)}`;
  } catch (error) {
    status.className = "error";
    status.textContent = error.message;
  }
}

async function watch(live) {
  const run = live.dataset.run;
  const ended = ["finished", "capped", "cancelled", "failed", "interrupted"];
  for (;;) {
    let progress;
    try {
      progress = await api("GET", `/api/runs/${encodeURIComponent(run)}/progress?lang=${lang()}`);
    } catch (error) {
      document.getElementById("live-status").textContent = error.message;
      return;
    }
    showProgress(progress);
    if (ended.includes(progress.status)) {
      document.getElementById("open-report").hidden = false;
      document.getElementById("open-run").hidden = false;
      const cancel = document.getElementById("cancel");
      if (cancel) cancel.hidden = true;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function showProgress(progress) {
  document.getElementById("live-status").textContent = progress.message;
  document.getElementById("live-status").className = `status ${progress.status}`;
  const bar = document.getElementById("live-progress");
  bar.max = Math.max(progress.total, 1);
  bar.value = progress.done;
  document.getElementById("live-items").textContent = `${progress.done} / ${progress.total}`;
  document.getElementById("live-cost").textContent = `$${progress.cost_usd.toFixed(6)}`;
  document.getElementById("live-errors").textContent = String(progress.errors);
  document.getElementById("live-elapsed").textContent = `${progress.elapsed_s.toFixed(1)} s`;
  const recent = document.getElementById("live-recent");
  recent.replaceChildren(...(progress.recent || []).map((line) => Object.assign(document.createElement("li"),
                                                                                  { textContent: line })));
}

async function manageKeys(event) {
  const problem = document.getElementById("keys-problem");
  problem.textContent = "";
  try {
    if (event.target.id === "new-key") {
      const body = Object.fromEntries(new FormData(event.target).entries());
      body.budget_usd = body.budget_usd === "" ? null : Number(body.budget_usd);
      body.label = body.label || null;
      const made = await api("POST", "/api/keys", body);
      const secret = document.getElementById("new-secret");
      secret.textContent = made.key;
      secret.hidden = false;
    } else if (event.target.id === "new-project") {
      const body = Object.fromEntries(new FormData(event.target).entries());
      await api("POST", "/api/projects", body);
      window.location.reload();
    }
  } catch (error) {
    problem.textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const runForm = document.getElementById("start-run");
  if (runForm) {
    runForm.addEventListener("submit", (event) => { event.preventDefault(); startRun(runForm); });
    document.getElementById("estimate").addEventListener("click", () => estimate(runForm));
    document.getElementById("suite-file").addEventListener("change", (event) => upload(event.target));
  }
  const auditForm = document.getElementById("start-audit");
  if (auditForm) auditForm.addEventListener("submit", (event) => { event.preventDefault(); startAudit(auditForm); });
  const live = document.getElementById("live");
  if (live) {
    watch(live);
    const cancel = document.getElementById("cancel");
    if (cancel) cancel.addEventListener("click", () => api("POST", `/api/runs/${encodeURIComponent(live.dataset.run)}/cancel`));
  }
  for (const id of ["new-key", "new-project"]) {
    const form = document.getElementById(id);
    if (form) form.addEventListener("submit", (event) => { event.preventDefault(); manageKeys(event); });
  }
  for (const button of document.querySelectorAll("button.revoke")) {
    button.addEventListener("click", async () => {
      await api("DELETE", `/api/keys/${encodeURIComponent(button.dataset.key)}`);
      window.location.reload();
    });
  }
});
