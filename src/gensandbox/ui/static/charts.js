// The traffic page's charts: each Vega-Lite spec in #chart-specs is drawn into #NAME-chart with the rows in
// #traffic-data (the same rows for all four). vega-embed comes from /static/vega.js, served by the dashboard
// itself: nothing is fetched from elsewhere. body[data-charts-ready] says when they are drawn (tests wait on it).
"use strict";

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function drawCharts() {
  const specs = readJson("chart-specs") || {};
  const rows = readJson("traffic-data") || [];
  const options = readJson("embed-options") || {};
  const failed = (document.getElementById("traffic-charts") || document.body).dataset.failed || "";
  const drawn = Object.keys(specs).map((name) => {
    const target = document.getElementById(`${name}-chart`);
    if (!target || typeof window.vegaEmbed !== "function") {
      return Promise.resolve();
    }
    const spec = { ...specs[name], datasets: { traffic: rows } };
    return window.vegaEmbed(target, spec, { ...options }).then(() => {
      target.dataset.rendered = "true";
    }).catch((error) => {
      target.dataset.rendered = "error";
      target.textContent = `${failed} ${error}`;
    });
  });
  Promise.all(drawn).then(() => document.body.setAttribute("data-charts-ready", "true"));
}

document.addEventListener("DOMContentLoaded", drawCharts);
