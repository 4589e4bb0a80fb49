// The dashboard's only script: a loading bar while a page is on its way, and the ledger's verify action with
// progress. Every page works without it; messages come from the server already in the reader's language.
"use strict";

function showLoading() {
  document.body.classList.add("loading");
}

// Back/forward may restore a page from the cache with the loading bar still on.
window.addEventListener("pageshow", () => document.body.classList.remove("loading"));

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
    return;
  }
  if (link.origin === window.location.origin && !link.hash) {
    showLoading();
  }
});

document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) {
    return; // the workbench's forms send their own requests
  }
  if (event.target.id === "verify") {
    event.preventDefault();
    verify(event.target);
  } else {
    showLoading();
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function showJob(job) {
  const status = document.getElementById("verify-status");
  const progress = document.getElementById("verify-progress");
  status.className = job.state;
  status.textContent = job.message;
  progress.hidden = job.state !== "running";
  if (job.total) {
    progress.max = job.total;
    progress.value = job.checked;
  } else {
    progress.removeAttribute("value"); // indeterminate until the ledger's size is known
  }
}

// Every change a signed-in browser makes carries the session's CSRF token (the page's <meta name="csrf-token">).
function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function getJSON(url, options = {}) {
  const headers = { accept: "application/json", "x-csrf-token": csrfToken(), ...(options.headers || {}) };
  const response = await fetch(url, { ...options, headers, credentials: "same-origin" });
  return response.json();
}

async function follow(job) {
  while (job.state === "running") {
    showJob(job);
    await sleep(250);
    job = await getJSON(job.poll);
  }
  showJob(job);
}

async function verify(form) {
  const button = form.querySelector("button");
  button.disabled = true;
  showJob({ state: "running", message: form.dataset.starting, total: null, checked: 0 });
  try {
    await follow(await getJSON(form.action, { method: "POST" }));
  } catch (error) {
    showJob({ state: "failed", message: String(error), total: null, checked: 0 });
  } finally {
    button.disabled = false;
  }
}

// A page reached by a plain form post (no script at the time) still follows its job.
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("verify-status");
  if (status && status.dataset.job && status.className === "running") {
    follow({ state: "running", poll: `/ledger/verify/${status.dataset.job}`, message: status.textContent });
  }
});
