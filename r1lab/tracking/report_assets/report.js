// r1lab report: draws the figures that charts.py prepared (plotly JSON) as the page loads, switches
// smoothing, and runs the completions browser (filters, search, think/answer highlighting). Works from
// file:// with no network.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const PAGE = 50; // cards rendered at a time; more on request
  const plotConfig = { displaylogo: false, responsive: true };
  const drawn = new Set();
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- charts
  // Training lines of long runs come with a smoothed twin (trace meta {smooth: "raw" | "smoothed",
  // name}): smoothing on shows the twin and leaves the raw line faint, off shows the raw line alone.
  function styled(traces) {
    const on = !data.smoothable || document.getElementById("smooth").checked;
    return traces.map((t) => {
      const m = t.meta;
      if (!m || !m.smooth) return t;
      if (m.smooth === "smoothed") return Object.assign({}, t, { visible: on });
      return Object.assign({}, t, { opacity: on ? 0.3 : 1, showlegend: !on, name: on ? m.name + " (raw)" : m.name });
    });
  }

  function draw(chart) {
    const el = document.getElementById("chart-" + chart.id);
    if (!el || drawn.has(chart.id)) return;
    const layout = Object.assign({ template: data.template }, chart.figure.layout);
    // A responsive plot fills its box: give the box the figure's height, or the plot spills over the
    // chart below it.
    if (layout.height) el.style.height = layout.height + "px";
    Plotly.newPlot(el, styled(chart.figure.data), layout, plotConfig);
    drawn.add(chart.id);
  }

  function restyleAll() {
    for (const chart of data.charts) {
      if (!drawn.has(chart.id)) continue;
      const el = document.getElementById("chart-" + chart.id);
      Plotly.react(el, styled(chart.figure.data), Object.assign({ template: data.template }, chart.figure.layout));
    }
  }

  function drawCharts() {
    data.charts.filter((c) => !c.lazy).forEach(draw);
    // Charts in a closed <details> have no width yet: draw them when it opens.
    const more = document.getElementById("more");
    if (more) {
      more.addEventListener("toggle", () => {
        if (more.open) data.charts.filter((c) => c.lazy).forEach(draw);
      });
    }
    if (data.smoothable) {
      $("smooth-label").hidden = false;
      $("smooth").addEventListener("change", restyleAll);
    }
  }

  function buildNav() {
    const nav = document.getElementById("nav");
    document.querySelectorAll("main > section").forEach((s) => {
      const a = document.createElement("a");
      a.href = "#" + s.id;
      a.textContent = s.querySelector("h2").textContent;
      nav.appendChild(a);
    });
  }

  // ---------------------------------------------------------------- text helpers
  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // The search box takes plain text (case-insensitive) or /a regex/.
  function searchRegex(query) {
    if (!query) return null;
    const m = query.match(/^\/(.+)\/$/);
    if (m) {
      try { return new RegExp(m[1], "gi"); } catch (e) { /* not a valid regex: search it as text */ }
    }
    return new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
  }

  function matches(re, text) {
    re.lastIndex = 0;
    return re.test(text);
  }

  // Escaped HTML of `text` with search matches wrapped in <mark>.
  function marked(text, re) {
    if (!re) return esc(text);
    let out = "", last = 0, m;
    re.lastIndex = 0;
    while ((m = re.exec(text)) !== null) {
      if (m[0] === "") { re.lastIndex++; continue; }
      out += esc(text.slice(last, m.index)) + "<mark>" + esc(m[0]) + "</mark>";
      last = m.index + m[0].length;
    }
    return out + esc(text.slice(last));
  }

  // [start, end) of the last \boxed{...}, the answer of responses that use no answer tags.
  function boxedRange(text) {
    const start = text.lastIndexOf("\\boxed{");
    if (start < 0) return null;
    let depth = 0;
    for (let i = start + 6; i < text.length; i++) {
      if (text[i] === "{") depth++;
      else if (text[i] === "}" && --depth === 0) return [start, i + 1];
    }
    return null;
  }

  // The completion split into think / answer / tag / plain pieces, as HTML.
  function renderCompletion(text, re) {
    const pieces = [];
    const tagRe = /<\/?(?:think|answer)>/g;
    let mode = "plain", last = 0, m;
    while ((m = tagRe.exec(text)) !== null) {
      if (m.index > last) pieces.push([text.slice(last, m.index), mode, last]);
      pieces.push([m[0], "tag", m.index]);
      mode = m[0] === "<think>" ? "think" : m[0] === "<answer>" ? "answer" : "plain";
      last = tagRe.lastIndex;
    }
    if (last < text.length) pieces.push([text.slice(last), mode, last]);
    const boxed = text.includes("<answer>") ? null : boxedRange(text);
    let html = "";
    for (const [piece, cls, at] of pieces) {
      if (boxed && cls !== "tag" && at < boxed[1] && at + piece.length > boxed[0]) {
        const a = Math.max(0, boxed[0] - at), b = Math.min(piece.length, boxed[1] - at);
        html += span(piece.slice(0, a), cls, re) + span(piece.slice(a, b), "answer", re) + span(piece.slice(b), cls, re);
      } else {
        html += span(piece, cls, re);
      }
    }
    return html;
  }

  function span(text, cls, re) {
    if (!text) return "";
    return cls === "plain" ? marked(text, re) : '<span class="seg-' + cls + '">' + marked(text, re) + "</span>";
  }

  function num(x, digits) {
    return typeof x === "number" ? x.toFixed(digits) : "–";
  }

  // ---------------------------------------------------------------- the browser
  const state = { query: "", source: "", kind: "", stepMin: null, stepMax: null, problem: null, limit: PAGE };

  function kindOf(r, kind) {
    switch (kind) {
      case "correct": case "incorrect": case "unverifiable": return r.status === kind;
      case "truncated": return r.finish === "length";
      case "format-invalid": return r.format_ok === false;
      case "format-valid": return r.format_ok === true;
      case "aha": return r.aha === true;
      default: return true;
    }
  }

  function passes(r, re) {
    if (state.source && r.source !== state.source) return false;
    if (state.problem && (r.source !== state.problem.source || r.problem !== state.problem.id)) return false;
    if (!kindOf(r, state.kind)) return false;
    if (state.stepMin !== null && !(r.step !== null && r.step >= state.stepMin)) return false;
    if (state.stepMax !== null && !(r.step !== null && r.step <= state.stepMax)) return false;
    return !re || matches(re, r.response);
  }

  function card(r, re) {
    const comps = Object.entries(r.components || {}).map(([k, v]) => k + " " + num(v, 2)).join(", ");
    const badges = ['<span class="badge ' + esc(r.status) + '">' + esc(r.status) + "</span>"];
    if (r.finish === "length") badges.push('<span class="badge truncated">truncated</span>');
    if (r.format_ok === false) badges.push('<span class="badge format-invalid">format-invalid</span>');
    if (r.aha === true) badges.push('<span class="badge aha">aha</span>');
    const where = r.step !== null ? "step " + r.step : "sample " + (r.sample ?? "");
    const head = [
      "<b>" + esc(where) + "</b>", esc(r.source), "problem <code>" + esc(r.problem) + "</code>",
      "reward " + num(r.reward, 2) + (comps ? " (" + esc(comps) + ")" : ""),
      (r.tokens ?? "–") + " tokens",
      "answer <code>" + esc(r.extracted ?? "none") + "</code> · gold <code>" + esc(r.gold ?? "") + "</code>",
    ].join(" · ");
    const q = data.questions[r.question];
    return '<article class="card st-' + esc(r.status) + '"><header>' + badges.join("") + head + "</header>" +
      (q ? '<div class="question">' + esc(q) + "</div>" : "") +
      '<pre class="completion">' + renderCompletion(r.response, re) + "</pre></article>";
  }

  // Share of each step's sampled completions that match the search: when did "wait" start to appear?
  function drawMatchChart(re) {
    const el = $("match-chart");
    if (typeof Plotly === "undefined") return; // not loaded yet; render() runs again on the next input
    const runs = data.sources.filter((s) => s.kind === "run" && (!state.source || s.name === state.source));
    if (!re || !runs.length) { el.hidden = true; return; }
    el.hidden = false;
    const traces = runs.map((s) => {
      const per = new Map();
      for (const r of data.records) {
        if (r.source !== s.name) continue;
        const c = per.get(r.step) || [0, 0];
        c[0] += matches(re, r.response) ? 1 : 0;
        c[1] += 1;
        per.set(r.step, c);
      }
      const steps = [...per.keys()].sort((a, b) => a - b);
      return { x: steps, y: steps.map((k) => per.get(k)[0] / per.get(k)[1]), name: s.name, type: "scatter", mode: "lines+markers" };
    });
    const lastStep = Math.max(...traces.map((t) => t.x[t.x.length - 1] || 0));
    Plotly.react(el, traces, {
      template: data.template, height: 220, margin: { l: 55, r: 15, t: 36, b: 36 },
      title: { text: "Share of sampled completions matching " + JSON.stringify(state.query) + ", per step", font: { size: 13 } },
      xaxis: { title: "step", dtick: lastStep <= 12 ? 1 : null }, yaxis: { title: "share", range: [0, 1.05] },
      showlegend: runs.length > 1,
    }, plotConfig);
  }

  function render() {
    const re = searchRegex(state.query);
    const hits = data.records.filter((r) => passes(r, re));
    $("match-count").textContent = hits.length + " of " + data.records.length + " embedded completions match" +
      (hits.length > state.limit ? "; showing the first " + state.limit : "");
    $("cards").innerHTML = hits.slice(0, state.limit).map((r) => card(r, re)).join("");
    $("more-cards").hidden = hits.length <= state.limit;
    const chip = $("f-problem");
    chip.hidden = !state.problem;
    if (state.problem) chip.textContent = "problem " + state.problem.id + " ×";
    drawMatchChart(re);
  }

  function initBrowser() {
    if (!$("browser")) return; // no sampled completions (an SFT run): no browser
    const note = data.records.length < data.total_records
      ? "Embedded " + data.records.length + " of " + data.total_records +
        " sampled completions, evenly across steps and problems, to keep this page small."
      : data.total_records + " sampled completions.";
    $("browser-note").textContent = note +
      " Think regions are shaded blue, answers green; matches of the search are marked yellow.";
    for (const s of data.sources) $("f-source").add(new Option(s.name + " (" + s.kind + ")", s.name));
    let timer = null;
    const later = () => { clearTimeout(timer); timer = setTimeout(() => { state.limit = PAGE; render(); }, 120); };
    $("search").addEventListener("input", (e) => { state.query = e.target.value.trim(); later(); });
    $("f-source").addEventListener("change", (e) => { state.source = e.target.value; later(); });
    $("f-kind").addEventListener("change", (e) => { state.kind = e.target.value; later(); });
    for (const [id, key] of [["f-step-min", "stepMin"], ["f-step-max", "stepMax"]]) {
      $(id).addEventListener("input", (e) => { state[key] = e.target.value === "" ? null : Number(e.target.value); later(); });
    }
    $("f-problem").addEventListener("click", () => { state.problem = null; render(); });
    $("more-cards").addEventListener("click", () => { state.limit += PAGE; render(); });
    document.querySelectorAll("tr.problem").forEach((tr) => tr.addEventListener("click", () => {
      state.problem = { source: tr.dataset.source, id: tr.dataset.problem };
      state.limit = PAGE;
      render();
      $("browser").scrollIntoView();
    }));
    render();
  }

  function drawAha() {
    const el = $("aha-cards");
    if (el) el.innerHTML = data.aha.map((r) => card(r, null)).join("");
  }

  // plotly.js ran just before this script; draw everything now, before the page's load event.
  const plotlyMs = performance.now() - window.r1labPlotlyStart;
  buildNav();
  const t0 = performance.now();
  drawCharts();
  const chartsMs = performance.now() - t0;
  drawAha();
  initBrowser();
  // For tests and the curious: when the page was ready (ms since navigation started), how long
  // running plotly.js and drawing the charts took. contentMs is kept for benchmarks/report_open.py:
  // tables, charts and browser are now painted together.
  const readyMs = performance.now();
  window.r1labReport = { ready: true, contentMs: readyMs, readyMs: readyMs, charts: drawn.size,
                         plotlyMs: plotlyMs, chartsMs: chartsMs };
  document.documentElement.dataset.ready = "true";
})();
