// The report's own script: draws the charts with the inlined vega-embed, and runs the sample browser.
// Everything from the run (answers, prompts, names) is put on the page with textContent, never as HTML.
(function () {
  "use strict";
  var PAGE_SIZE = 50;

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var text = readJson("ui-text") || {};

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  // ---- charts: chart NAME goes into #NAME-chart; data-rendered says when (tests and people can wait on it)
  function drawCharts() {
    var specs = readJson("chart-specs") || {};
    var options = readJson("embed-options") || {};
    options.i18n = { PNG_ACTION: text.png_action, SVG_ACTION: text.svg_action };
    var drawn = Object.keys(specs).map(function (name) {
      var target = document.getElementById(name + "-chart");
      if (!target || typeof window.vegaEmbed !== "function") { return Promise.resolve(); }
      options.downloadFileName = name;
      return window.vegaEmbed(target, specs[name], Object.assign({}, options)).then(function () {
        target.setAttribute("data-rendered", "true");
      }).catch(function (error) {
        target.setAttribute("data-rendered", "error");
        target.textContent = text.chart_failed + " " + error;
      });
    });
    Promise.all(drawn).then(function () { document.body.setAttribute("data-charts-ready", "true"); });
  }

  // ---- sample browser
  function samplesFrom(payload) {
    return payload.rows.map(function (row) {
      var sample = {};
      payload.fields.forEach(function (field, index) { sample[field] = row[index]; });
      sample.haystack = [sample.item_id, sample.prompt, sample.answer, sample.target, sample.reason, sample.error,
        sample.conversation ? sample.conversation.session : ""].join("\n").toLowerCase();
      return sample;
    });
  }

  function fillSelect(select, values, allLabel, labelOf) {
    var all = document.createElement("option");
    all.value = "";
    all.textContent = allLabel;
    select.appendChild(all);
    values.forEach(function (value) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = labelOf ? labelOf(value) : value;
      select.appendChild(option);
    });
  }

  function distinct(samples, field) {
    var seen = {};
    samples.forEach(function (sample) { seen[sample[field]] = true; });
    return Object.keys(seen).sort();
  }

  function cell(row, value, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    var inner = document.createElement("div");
    inner.textContent = value === null || value === undefined ? "" : String(value);
    td.appendChild(inner);
    row.appendChild(td);
    return td;
  }

  function sampleRow(sample) {
    var tr = document.createElement("tr");
    tr.className = "sample";
    tr.setAttribute("data-outcome", sample.outcome);
    cell(tr, sample.model);
    cell(tr, sample.suite + " · " + sample.item_id + (sample.epoch ? " #" + sample.epoch : "") + "\n" +
      sample.category + " · " + sample.language, "text");
    var score = sample.score === null ? "" : " (" + Math.round(sample.score * 1000) / 1000 + ")";
    cell(tr, text["outcome_" + sample.outcome] + score, "outcome-" + sample.outcome);
    cell(tr, sample.prompt, "text");
    var answer = cell(tr, sample.answer, "text");
    if (sample.conversation) { answer.appendChild(conversationView(sample.conversation)); }
    cell(tr, sample.target, "text target");
    cell(tr, sample.error || sample.reason, "text");
    return tr;
  }

  // ---- an agent sample's episode: model turns with their tool calls, tool results, simulated-user turns
  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined && content !== null) { node.textContent = String(content); }
    return node;
  }

  function stepView(step) {
    var item = element("li", "step step-" + step.kind + (step.status ? " status-" + step.status : ""));
    if (step.kind === "tool") {
      item.appendChild(element("div", "who", fill(text.conv_tool, { name: step.name }) + " · " +
        (text["status_" + step.status] || step.status)));
      item.appendChild(element("pre", "arguments", step.arguments));
      item.appendChild(element("div", "said", step.problem ? step.problem + "\n" + step.result : step.result));
      return item;
    }
    item.appendChild(element("div", "who", step.kind === "model" ? text.conv_model : text.conv_user));
    if (step.text) { item.appendChild(element("div", "said", step.text)); }
    if (step.error) { item.appendChild(element("div", "said outcome-error", step.error)); }
    (step.tool_calls || []).forEach(function (call) {
      var line = element("div", "call", fill(text.conv_call, { name: call.name }));
      line.appendChild(element("pre", "arguments", call.arguments));
      item.appendChild(line);
    });
    return item;
  }

  function conversationView(episode) {
    var details = element("details", "conversation");
    details.appendChild(element("summary", null, fill(text.conv_summary, {
      steps: episode.steps.length, end: text["end_" + episode.end] || episode.end })));
    var steps = element("ol", "steps");
    episode.steps.forEach(function (step) { steps.appendChild(stepView(step)); });
    details.appendChild(steps);
    if (episode.attack_succeeded !== null && episode.attack_succeeded !== undefined) {
      details.appendChild(element("div", episode.attack_succeeded ? "attack outcome-error" : "attack outcome-correct",
        episode.attack_succeeded ? text.conv_attack_yes : text.conv_attack_no));
    }
    if (episode.error) { details.appendChild(element("div", "outcome-error", episode.error)); }
    if (episode.state !== null) {
      details.appendChild(element("div", "who", text.conv_state));
      details.appendChild(element("pre", "state", episode.state));
    }
    details.appendChild(element("div", "session muted", fill(text.conv_trace, { session: episode.session })));
    return details;
  }

  function startBrowser() {
    var root = document.getElementById("sample-browser");
    var payload = readJson("sample-data");
    if (!root || !payload || !payload.rows.length) { return; }
    var samples = samplesFrom(payload);
    var filters = {
      model: document.getElementById("filter-model"),
      suite: document.getElementById("filter-suite"),
      category: document.getElementById("filter-category"),
      language: document.getElementById("filter-language"),
      outcome: document.getElementById("filter-outcome")
    };
    ["model", "suite", "category", "language"].forEach(function (field) {
      fillSelect(filters[field], distinct(samples, field), text["filter_" + field]);
    });
    fillSelect(filters.outcome, ["correct", "incorrect", "error"], text.filter_outcome,
      function (value) { return text["outcome_" + value]; });
    var search = document.getElementById("filter-search");
    var body = document.getElementById("sample-rows");
    var status = document.getElementById("page-status");
    var previous = document.getElementById("page-prev");
    var next = document.getElementById("page-next");
    var page = 0;
    var matching = samples;

    function apply() {
      var needle = search.value.trim().toLowerCase();
      matching = samples.filter(function (sample) {
        return Object.keys(filters).every(function (field) {
          return !filters[field].value || sample[field] === filters[field].value;
        }) && (!needle || sample.haystack.indexOf(needle) !== -1);
      });
      page = 0;
      draw();
    }

    function draw() {
      var pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
      page = Math.min(page, pages - 1);
      body.textContent = "";
      matching.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).forEach(function (sample) {
        body.appendChild(sampleRow(sample));
      });
      if (!matching.length) {
        var tr = document.createElement("tr");
        cell(tr, text.no_match).colSpan = 7;
        body.appendChild(tr);
      }
      status.textContent = fill(text.page, { page: page + 1, pages: pages, matching: matching.length });
      previous.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }

    Object.keys(filters).forEach(function (field) { filters[field].addEventListener("change", apply); });
    search.addEventListener("input", apply);
    previous.addEventListener("click", function () { page -= 1; draw(); });
    next.addEventListener("click", function () { page += 1; draw(); });
    draw();
    root.setAttribute("data-ready", "true");
  }

  startBrowser();
  drawCharts();
})();
