"use strict";
// Hotline reports: /api/reports in a shift lead's or admin's session. The charts are SVG drawn
// here, with axes, units and legends as text (read by screen readers, translated with the rest
// later); durations read m:ss; exports in CSV and XLSX. The fetch wrapper, the sign-in, the DOM
// helpers and say() come from common.js.

// Every string this page's script shows, in one place (a catalogue later). Measures are keyed
// by the names the API and both exports give them.
const T = {
  measures: {
    interval_start: "Interval start", queue: "Queue", topic: "Topic", offered: "Offered",
    answered: "Answered", abandoned: "Abandoned", short_abandoned: "Short abandons left out",
    answered_within_threshold: "Answered within threshold", answer_rate: "Answer rate",
    service_level: "Service level", abandonment: "Abandonment", asa_seconds: "ASA",
    aht_seconds: "AHT", longest_wait_seconds: "Longest wait",
  },
  explain: {
    asa_seconds: "Average speed of answer: the mean wait of answered calls",
    aht_seconds: "Average handling time: talk and wrap-up of answered calls",
    service_level: "Answered within the queue's threshold, over offered",
    longest_wait_seconds: "The longest wait of an offered call",
  },
  unit: { percent: "%", duration: "m:ss" },
  all: "all", none: "none", allQueues: "all queues", noValue: "–",
  volumeCaption: "Calls per interval: offered, answered and abandoned",
  levelCaption: "Service level per interval, against each queue's target",
  waitCaption: "Waits per interval: ASA and the longest wait",
  xTitle: (tz) => `Interval start (${tz})`,
  yCalls: "Calls",
  yLevel: "Service level (%)",
  yWait: "Wait (m:ss)",
  target: (queue, share) => `Target of ${queue}: ${share}`,
  targetOf: (share, queues) => `Target ${share} (${queues})`,
  point: (label, name, value) => `${label}: ${name} ${value}`,
  withUnit: (name, unit) => `${name} (${unit})`,
  levelOf: (queue) => `Service level: ${queue}`,
  loading: "Loading the report…",
  empty: "No calls in this period for these queues and topics.",
  fileName: (start, suffix) => `hotline-report-${start}.${suffix}`,
};

const COLUMNS = ["interval_start", "queue", "topic", "offered", "answered", "abandoned", "answer_rate",
  "service_level", "asa_seconds", "aht_seconds", "abandonment", "longest_wait_seconds"];
const TOTALS = ["offered", "answered", "abandoned", "short_abandoned", "answered_within_threshold", "answer_rate",
  "service_level", "asa_seconds", "aht_seconds", "abandonment", "longest_wait_seconds"];
const KIND = { answer_rate: "percent", service_level: "percent", abandonment: "percent",
  asa_seconds: "duration", aht_seconds: "duration", longest_wait_seconds: "duration" };
const CHART = { height: 240, left: 56, right: 16, top: 12, bottom: 48, label: 96 };
const COUNT_STEPS = [0, 1, 2, 3, 4, 5, 6].flatMap((e) => [1, 2, 5].map((m) => m * 10 ** e));
const WAIT_STEPS = [5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400];
const SERIES = 6; // colour classes s0..s5
const state = { report: null };

// --- Figures in words -------------------------------------------------------------------------

const pct = (x) => (x === null || x === undefined ? T.noValue : `${(x * 100).toFixed(1)}%`);

/** Seconds as m:ss (minutes may pass 59: a wait of 75 minutes reads 75:00). */
function mss(x) {
  if (x === null || x === undefined) return T.noValue;
  const whole = Math.round(x);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function shown(name, value) {
  if (KIND[name] === "percent") return pct(value);
  if (KIND[name] === "duration") return mss(value);
  return value === null || value === undefined ? T.noValue : String(value);
}

function heading(name) {
  const unit = T.unit[KIND[name]];
  return unit ? T.withUnit(T.measures[name], unit) : T.measures[name];
}

/** An interval's start as the API gives it (in the report's zone), shortened for an axis. */
function axisLabel(start, report, oneDay) {
  if (report.interval === "month") return start.slice(0, 7);
  if (report.interval === "day" || report.interval === "week") return start.slice(0, 10);
  return oneDay ? start.slice(11, 16) : `${start.slice(5, 10)} ${start.slice(11, 16)}`;
}

// --- The query and the exports -----------------------------------------------------------------

function params() {
  const p = new URLSearchParams();
  p.set("start", $("start").value);
  p.set("end", $("end").value);
  p.set("interval", $("interval").value);
  if ($("by-queue").checked) p.append("group", "queue");
  if ($("by-topic").checked) p.append("group", "topic");
  if ($("tz").value.trim()) p.set("tz", $("tz").value.trim());
  if (Number($("short").value) > 0) p.set("short_abandon_seconds", $("short").value);
  if ($("threshold").value) p.set("threshold_seconds", $("threshold").value);
  return p;
}

async function download(suffix) {
  try {
    const res = await request("GET", `/api/reports.${suffix}?${params()}`);
    const url = URL.createObjectURL(await res.blob());
    const a = element("a", { href: url, download: T.fileName($("start").value, suffix) });
    document.body.append(a); a.click(); a.remove();
    URL.revokeObjectURL(url);
  } catch (err) { fail(err); }
}

// --- Totals and the table ----------------------------------------------------------------------

function drawTotals(t) {
  $("totals").replaceChildren(...TOTALS.map((name) => element("div", {},
    element("dt", { textContent: heading(name), title: T.explain[name] || "" }),
    element("dd", { textContent: shown(name, t[name]) }))));
}

function drawTable(report) {
  const head = element("tr", {}, ...COLUMNS.map((name) =>
    element("th", { scope: "col", textContent: heading(name), title: T.explain[name] || "" })));
  $("rows").tHead.replaceChildren(head);
  const noTopic = report.group_by.includes("topic") ? T.none : T.all;
  const rows = report.rows.map((r) => element("tr", {}, ...COLUMNS.map((name) => {
    if (name === "interval_start") return cell(r.interval_start.replace("T", " ").slice(0, 16));
    if (name === "queue") return cell(r.queue ?? T.all);
    if (name === "topic") return cell(r.topic ?? noTopic);
    return cell(shown(name, r[name]));
  })));
  $("rows").tBodies[0].replaceChildren(...rows);
}

// --- Charts ------------------------------------------------------------------------------------

/** The ticks 0, step, … up to the first at or above `top`, the step the first of `steps` that
 * needs at most `count` of them. */
function ticksFor(top, steps, count = 4) {
  const step = steps.find((s) => s * count >= top) || steps[steps.length - 1];
  const ticks = [0];
  while (ticks[ticks.length - 1] < top) ticks.push(ticks.length * step);
  return ticks.length > 1 ? ticks : [0, step];
}

/** An empty chart in `svg`: its y axis (ticks, grid lines, title) and x axis (as many of
 * `labels` as fit, title); gives the scales. */
function frame(svg, labels, { ticks, format, yTitle, xTitle }) {
  const width = Math.max(svg.clientWidth || 0, 320);
  const { height, left, right, top, bottom, label } = CHART;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const plotW = width - left - right, plotH = height - top - bottom, max = ticks[ticks.length - 1];
  const band = plotW / Math.max(labels.length, 1);
  const x = (i) => left + (i + 0.5) * band;
  const y = (v) => top + plotH - (Math.min(v, max) / max) * plotH;
  const yAxis = svgElement("g", { class: "axis y" });
  for (const v of ticks) {
    yAxis.append(svgElement("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }),
      svgElement("text", { x: left - 6, y: y(v), class: "tick" }, format(v)));
  }
  yAxis.append(svgElement("text", { class: "title", transform: `translate(14 ${top + plotH / 2}) rotate(-90)` }, yTitle));
  const xAxis = svgElement("g", { class: "axis x" });
  xAxis.append(svgElement("line", { x1: left, x2: width - right, y1: top + plotH, y2: top + plotH, class: "base" }));
  const every = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(plotW / label))));
  labels.forEach((text, i) => {
    if (i % every === 0) xAxis.append(svgElement("text", { x: x(i), y: top + plotH + 16, class: "tick" }, text));
  });
  xAxis.append(svgElement("text", { x: left + plotW / 2, y: height - 6, class: "title" }, xTitle));
  svg.append(yAxis, xAxis);
  return { x, y, band, left, right: width - right };
}

function legend(id, items) {
  $(id).replaceChildren(...items.map(({ cls, label }) =>
    element("li", {}, element("span", { className: `swatch ${cls}` }), label)));
}

/** A line through the points (index, value) that have a value, a dot with its title at each. */
function line(svg, scale, points, cls, name, labels, format) {
  const kept = points.filter(([, v]) => v !== null && v !== undefined);
  if (!kept.length) return;
  svg.append(svgElement("polyline", { points: kept.map(([i, v]) => `${scale.x(i)},${scale.y(v)}`).join(" "), class: `series ${cls}` }));
  for (const [i, v] of kept) {
    const dot = svgElement("circle", { cx: scale.x(i), cy: scale.y(v), r: 3, class: `dot ${cls}` });
    dot.append(svgElement("title", {}, T.point(labels[i], name, format(v))));
    svg.append(dot);
  }
}

/** The report's rows per interval start (in order), summed over queues and topics; `key` keeps
 * a dimension apart (e.g. "queue"). */
function intervals(report, key) {
  const starts = [...new Set(report.rows.map((r) => r.interval_start))];
  const sums = new Map();
  for (const r of report.rows) {
    const id = `${r.interval_start}|${key ? r[key] ?? "" : ""}`;
    const acc = sums.get(id) || { offered: 0, answered: 0, abandoned: 0, within: 0, waitSum: 0, longest: null };
    acc.offered += r.offered; acc.answered += r.answered; acc.abandoned += r.abandoned;
    acc.within += r.answered_within_threshold; acc.waitSum += (r.asa_seconds || 0) * r.answered;
    if (r.longest_wait_seconds !== null) acc.longest = Math.max(acc.longest ?? 0, r.longest_wait_seconds);
    sums.set(id, acc);
  }
  return { starts, at: (start, value) => sums.get(`${start}|${value ?? ""}`) };
}

function labelsOf(report, starts) {
  const oneDay = new Set(starts.map((s) => s.slice(0, 10))).size <= 1;
  return starts.map((s) => axisLabel(s, report, oneDay));
}

function drawVolume(report) {
  const { starts, at } = intervals(report);
  const labels = labelsOf(report, starts);
  const top = Math.max(1, ...starts.map((s) => at(s).offered));
  const scale = frame($("volume"), labels, { ticks: ticksFor(top, COUNT_STEPS), format: String, yTitle: T.yCalls, xTitle: T.xTitle(report.timezone) });
  const kinds = ["offered", "answered", "abandoned"];
  const width = Math.max((scale.band * 0.8) / kinds.length, 1);
  starts.forEach((start, i) => kinds.forEach((kind, k) => {
    const value = at(start)[kind];
    const bar = svgElement("rect", { x: scale.x(i) - (width * kinds.length) / 2 + k * width, y: scale.y(value),
      width, height: scale.y(0) - scale.y(value), class: `bar ${kind}` });
    bar.append(svgElement("title", {}, T.point(labels[i], T.measures[kind], value)));
    $("volume").append(bar);
  }));
  legend("volume-legend", kinds.map((kind) => ({ cls: kind, label: T.measures[kind] })));
}

/** The queues whose targets the service level chart draws: the queues in the rows when the
 * report is per queue, else the queues asked for, else every queue with a target. */
function targetQueues(report, perQueue) {
  if (perQueue) return [...new Set(report.rows.map((r) => r.queue).filter((q) => q))];
  return report.queues.length ? report.queues : Object.keys(report.targets);
}

/** The target lines: one per queue in its series' colour when the report is per queue, else
 * one per distinct target, naming its queues. */
function targets(report, queues, perQueue) {
  const known = queues.filter((q) => report.targets[q] !== undefined);
  if (perQueue) {
    return known.map((q) => ({ queues: [q], share: report.targets[q], cls: `s${queues.indexOf(q) % SERIES}`,
      label: T.target(q, pct(report.targets[q])) }));
  }
  const byShare = new Map();
  for (const q of known) byShare.set(report.targets[q], [...(byShare.get(report.targets[q]) || []), q]);
  return [...byShare].map(([share, names], n) => ({ queues: names, share, cls: `s${(n + 1) % SERIES}`,
    label: T.targetOf(pct(share), names.join(", ")) }));
}

function drawLevel(report) {
  const perQueue = report.group_by.includes("queue");
  const { starts, at } = intervals(report, perQueue ? "queue" : null);
  const labels = labelsOf(report, starts);
  const svg = $("level");
  const scale = frame(svg, labels, { ticks: [0, 0.25, 0.5, 0.75, 1], format: (v) => `${v * 100}%`, yTitle: T.yLevel, xTitle: T.xTitle(report.timezone) });
  const queues = targetQueues(report, perQueue);
  const series = perQueue ? queues : [null];
  const items = [];
  series.forEach((queue, n) => {
    const cls = `s${n % SERIES}`;
    const points = starts.map((s, i) => { const a = at(s, queue); return [i, a && a.offered ? a.within / a.offered : null]; });
    line(svg, scale, points, cls, T.measures.service_level, labels, pct);
    items.push({ cls, label: T.levelOf(queue ?? T.allQueues) });
  });
  for (const mark of targets(report, queues, perQueue)) {
    const drawn = svgElement("line", { x1: scale.left, x2: scale.right, y1: scale.y(mark.share), y2: scale.y(mark.share),
      class: `target ${mark.cls}`, "data-queues": mark.queues.join(" "), "data-target": mark.share });
    drawn.append(svgElement("title", {}, mark.label));
    svg.append(drawn);
    items.push({ cls: `target ${mark.cls}`, label: mark.label });
  }
  legend("level-legend", items);
}

function drawWait(report) {
  const { starts, at } = intervals(report);
  const labels = labelsOf(report, starts);
  const asa = starts.map((s, i) => { const a = at(s); return [i, a.answered ? a.waitSum / a.answered : null]; });
  const longest = starts.map((s, i) => [i, at(s).longest]);
  const top = Math.max(1, ...[...asa, ...longest].map(([, v]) => v || 0));
  const svg = $("wait");
  const scale = frame(svg, labels, { ticks: ticksFor(top, WAIT_STEPS), format: mss, yTitle: T.yWait, xTitle: T.xTitle(report.timezone) });
  line(svg, scale, asa, "s0", T.measures.asa_seconds, labels, mss);
  line(svg, scale, longest, "s2", T.measures.longest_wait_seconds, labels, mss);
  legend("wait-legend", [{ cls: "s0", label: T.measures.asa_seconds }, { cls: "s2", label: T.measures.longest_wait_seconds }]);
}

function drawCharts(report) {
  $("volume-caption").textContent = T.volumeCaption;
  $("level-caption").textContent = T.levelCaption;
  $("wait-caption").textContent = T.waitCaption;
  drawVolume(report);
  drawLevel(report);
  drawWait(report);
}

// --- The page's states -------------------------------------------------------------------------

function note(text) {
  $("report-state").textContent = text;
  $("report-state").hidden = !text;
}

function loading(on) {
  $("show").disabled = on;
  $("report").setAttribute("aria-busy", String(on));
  if (on) note(T.loading);
  else if ($("report-state").textContent === T.loading) note("");
}

function draw(report) {
  const empty = report.rows.length === 0;
  $("report").hidden = empty;
  note(empty ? T.empty : "");
  if (empty) return;
  drawTotals(report.total);
  drawCharts(report);
  drawTable(report);
}

async function show() {
  say("");
  loading(true);
  try {
    const report = await api("GET", `/api/reports?${params()}`);
    state.report = report;
    signedIn();
    draw(report);
  } catch (err) {
    note("");
    if (refused(err)) { turnedAway(err); return; }
    fail(err);
  } finally {
    loading(false);
  }
}

let redraw = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(redraw);
  redraw = requestAnimationFrame(() => { if (state.report && state.report.rows.length) drawCharts(state.report); });
});

const today = new Date();
const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
$("start").value = iso(today);
$("end").value = iso(new Date(today.getTime() + 86400000));
$("query").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
$("csv").addEventListener("click", () => download("csv"));
$("xlsx").addEventListener("click", () => download("xlsx"));
signIn({ start: show });
