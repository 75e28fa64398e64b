"use strict";
// Hotline reports: /api/reports in a shift lead's or admin's session. The charts are SVG drawn
// here, with axes, units and legends as text (read by screen readers, translated with the rest
// later); durations read m:ss; exports in CSV and XLSX. The fetch wrapper, the sign-in, the DOM
// helpers and say() come from common.js.

// Every string this page's script shows is in i18n-reports.js (t("reports.…")); measures are keyed
// by the names the API and both exports give them. Queues and topics show by their names in the
// page's language from the live IVR (GET /api/topics: a queue is named by its topics).

/** The words of a measure, of its explanation, of its unit. */
const measure = (name) => t(`reports.measure.${name}`);
const explain = (name) => (hasText(`reports.explain.${name}`) ? t(`reports.explain.${name}`) : "");
const withUnit = (name, unit) => `${name} (${unit})`;
const point = (label, name, value) => `${label}: ${name} ${value}`;
const fileName = (start, suffix) => `hotline-report-${start}.${suffix}`;

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
const state = { report: null, topics: [] };

// --- Figures in words -------------------------------------------------------------------------

const pct = (x) => formatPercent(x, 1);
const mss = (x) => formatDuration(x);

/** A topic's name in the page's language from the live IVR (its id when it has none). */
function topicName(id) {
  const topic = state.topics.find((x) => x.id === id);
  if (!topic) return id;
  return topic.names[i18n.language] || topic.names.en || Object.values(topic.names)[0] || id;
}

/** A queue by the names of the topics it answers (its id when no topic leads to it). */
function queueName(id) {
  const names = state.topics.filter((x) => x.queue === id).map((x) => topicName(x.id));
  return names.length ? names.join(", ") : id;
}

function shown(name, value) {
  if (KIND[name] === "percent") return pct(value);
  if (KIND[name] === "duration") return mss(value);
  return formatNumber(value);
}

function heading(name) {
  return KIND[name] ? withUnit(measure(name), t(`reports.unit.${KIND[name]}`)) : measure(name);
}

/** An interval's start (ISO with the report zone's offset) in the page's language: `short` for
 * an axis, the full date otherwise. */
function when(start, report, short) {
  const zone = report.timezone;
  if (report.interval === "month") return formatDateTime(start, zone, { month: short ? "short" : "long", year: "numeric" });
  const date = short ? { day: "numeric", month: "short" } : { dateStyle: "short" };
  if (report.interval === "day" || report.interval === "week") return formatDateTime(start, zone, date);
  return formatDateTime(start, zone, short ? { ...date, hour: "2-digit", minute: "2-digit" } : { ...date, timeStyle: "short" });
}

/** An interval's start for an axis: only the time when the report is one day long. */
function axisLabel(start, report, oneDay) {
  const hourly = !["day", "week", "month"].includes(report.interval);
  return hourly && oneDay ? start.slice(11, 16) : when(start, report, true);
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
    const a = element("a", { href: url, download: fileName($("start").value, suffix) });
    document.body.append(a); a.click(); a.remove();
    URL.revokeObjectURL(url);
  } catch (err) { fail(err); }
}

// --- Totals and the table ----------------------------------------------------------------------

function drawTotals(total) {
  $("totals").replaceChildren(...TOTALS.map((name) => element("div", {},
    element("dt", { textContent: heading(name), title: explain(name) }),
    element("dd", { textContent: shown(name, total[name]) }))));
}

function drawTable(report) {
  const head = element("tr", {}, ...COLUMNS.map((name) =>
    element("th", { scope: "col", textContent: heading(name), title: explain(name) })));
  $("rows").tHead.replaceChildren(head);
  const noTopic = t(report.group_by.includes("topic") ? "reports.none" : "reports.all");
  const rows = report.rows.map((r) => element("tr", {}, ...COLUMNS.map((name) => {
    if (name === "interval_start") return cell(when(r.interval_start, report, false));
    if (name === "queue") return cell(r.queue ? queueName(r.queue) : t("reports.all"));
    if (name === "topic") return cell(r.topic ? topicName(r.topic) : noTopic);
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
    dot.append(svgElement("title", {}, point(labels[i], name, format(v))));
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
  const scale = frame($("volume"), labels, { ticks: ticksFor(top, COUNT_STEPS), format: formatNumber, yTitle: t("reports.y_calls"), xTitle: t("reports.x_title", { tz: report.timezone }) });
  const kinds = ["offered", "answered", "abandoned"];
  const width = Math.max((scale.band * 0.8) / kinds.length, 1);
  starts.forEach((start, i) => kinds.forEach((kind, k) => {
    const value = at(start)[kind];
    const bar = svgElement("rect", { x: scale.x(i) - (width * kinds.length) / 2 + k * width, y: scale.y(value),
      width, height: scale.y(0) - scale.y(value), class: `bar ${kind}` });
    bar.append(svgElement("title", {}, point(labels[i], measure(kind), formatNumber(value))));
    $("volume").append(bar);
  }));
  legend("volume-legend", kinds.map((kind) => ({ cls: kind, label: measure(kind) })));
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
      label: t("reports.target", { queue: queueName(q), share: pct(report.targets[q]) }) }));
  }
  const byShare = new Map();
  for (const q of known) byShare.set(report.targets[q], [...(byShare.get(report.targets[q]) || []), q]);
  return [...byShare].map(([share, names], n) => ({ queues: names, share, cls: `s${(n + 1) % SERIES}`,
    label: t("reports.target_of", { share: pct(share), queues: names.map(queueName).join("; ") }) }));
}

function drawLevel(report) {
  const perQueue = report.group_by.includes("queue");
  const { starts, at } = intervals(report, perQueue ? "queue" : null);
  const labels = labelsOf(report, starts);
  const svg = $("level");
  const scale = frame(svg, labels, { ticks: [0, 0.25, 0.5, 0.75, 1], format: (v) => formatPercent(v), yTitle: heading("service_level"), xTitle: t("reports.x_title", { tz: report.timezone }) });
  const queues = targetQueues(report, perQueue);
  const series = perQueue ? queues : [null];
  const items = [];
  series.forEach((queue, n) => {
    const cls = `s${n % SERIES}`;
    const points = starts.map((s, i) => { const a = at(s, queue); return [i, a && a.offered ? a.within / a.offered : null]; });
    line(svg, scale, points, cls, measure("service_level"), labels, pct);
    items.push({ cls, label: t("reports.level_of", { queue: queue ? queueName(queue) : t("reports.all_queues") }) });
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
  const scale = frame(svg, labels, { ticks: ticksFor(top, WAIT_STEPS), format: mss, yTitle: t("reports.y_wait"), xTitle: t("reports.x_title", { tz: report.timezone }) });
  line(svg, scale, asa, "s0", measure("asa_seconds"), labels, mss);
  line(svg, scale, longest, "s2", measure("longest_wait_seconds"), labels, mss);
  legend("wait-legend", [{ cls: "s0", label: measure("asa_seconds") }, { cls: "s2", label: measure("longest_wait_seconds") }]);
}

function drawCharts(report) {
  $("volume-caption").textContent = t("reports.volume_caption");
  $("level-caption").textContent = t("reports.level_caption");
  $("wait-caption").textContent = t("reports.wait_caption");
  drawVolume(report);
  drawLevel(report);
  drawWait(report);
}

// --- The page's states -------------------------------------------------------------------------

/** The state line: the key of what it says ("" for nothing), kept to say it again in another language. */
function note(key) {
  $("report-state").dataset.key = key;
  $("report-state").textContent = key ? t(key) : "";
  $("report-state").hidden = !key;
}

function loading(on) {
  $("show").disabled = on;
  $("report").setAttribute("aria-busy", String(on));
  if (on) note("reports.loading");
  else if ($("report-state").dataset.key === "reports.loading") note("");
}

function draw(report) {
  const empty = report.rows.length === 0;
  $("report").hidden = empty;
  note(empty ? "reports.empty" : "");
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
onLanguage(() => {
  note($("report-state").dataset.key || "");
  if (state.report) draw(state.report);
});

/** Once signed in: the topics' names (the report shows ids when they cannot be read), then the report. */
async function start() {
  state.topics = await api("GET", "/api/topics").catch(() => []);
  await show();
}

translatePage();
signIn({ start });
