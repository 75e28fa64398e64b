"use strict";
// Hotline reports: /api/reports with a shift lead's or admin's token; charts drawn as inline SVG.
// The fetch wrapper, the sign-in, the DOM helpers and say() come from common.js.
const state = { report: null };

const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
const secs = (x) => (x === null || x === undefined ? "–" : `${x.toFixed(1)} s`);

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

function drawTable(report) {
  const rows = report.rows.map((r) => {
    return element("tr", {}, cell(r.start.replace("T", " ").slice(0, 16)), cell(r.queue ?? "all"), cell(r.topic ?? (report.group_by.includes("topic") ? "none" : "all")),
      cell(r.offered), cell(r.answered), cell(r.abandoned), cell(pct(r.answer_rate)), cell(pct(r.service_level)),
      cell(secs(r.asa_seconds)), cell(secs(r.aht_seconds)), cell(pct(r.abandonment)), cell(secs(r.longest_wait_seconds)));
  });
  $("rows").tBodies[0].replaceChildren(...rows);
}

function drawTotals(t) {
  const items = [["Offered", t.offered], ["Answered", t.answered], ["Abandoned", t.abandoned], ["Short abandons left out", t.short_abandoned],
    ["Answer rate", pct(t.answer_rate)], ["Service level", pct(t.service_level)], ["ASA", secs(t.asa_seconds)],
    ["AHT", secs(t.aht_seconds)], ["Abandonment", pct(t.abandonment)], ["Longest wait", secs(t.longest_wait_seconds)]];
  $("totals").replaceChildren(...items.flatMap(([k, v]) => [element("dt", { textContent: k }), element("dd", { textContent: String(v) })]));
}

function byStart(report) {
  const out = new Map();
  for (const r of report.rows) {
    const acc = out.get(r.start) || { offered: 0, answered: 0, abandoned: 0, within: 0 };
    acc.offered += r.offered; acc.answered += r.answered; acc.abandoned += r.abandoned; acc.within += r.answered_within_threshold;
    out.set(r.start, acc);
  }
  return [...out.entries()];
}

function drawCharts(report) {
  const series = byStart(report);
  const volume = $("volume"), level = $("level");
  const w = Math.max(series.length * 3, 300), h = 180;
  for (const svg of [volume, level]) { svg.setAttribute("viewBox", `0 0 ${w} ${h}`); svg.setAttribute("preserveAspectRatio", "none"); svg.replaceChildren(); }
  const top = Math.max(1, ...series.map(([, a]) => a.offered));
  const step = w / Math.max(series.length, 1);
  series.forEach(([start, a], i) => {
    const x = i * step;
    for (const [name, value, shift] of [["offered", a.offered, 0], ["answered", a.answered, step / 3], ["abandoned", a.abandoned, (2 * step) / 3]]) {
      const height = (value / top) * (h - 10);
      const bar = svgElement("rect", { x: x + shift, y: h - height, width: Math.max(step / 3 - 0.5, 0.5), height, class: name });
      bar.append(svgElement("title", {}, `${start}: ${name} ${value}`));
      volume.append(bar);
    }
  });
  const points = series.filter(([, a]) => a.offered).map(([, a], i) => `${(i + 0.5) * step},${h - (a.within / a.offered) * (h - 10)}`);
  if (points.length) level.append(svgElement("polyline", { points: points.join(" "), class: "level" }));
  level.append(svgElement("line", { x1: 0, x2: w, y1: h - 0.8 * (h - 10), y2: h - 0.8 * (h - 10), class: "target" }));
}

async function show() {
  say("");
  try {
    const report = await api("GET", `/api/reports?${params()}`);
    state.report = report;
    signedIn();
    drawTotals(report.total);
    drawCharts(report);
    drawTable(report);
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    fail(err);
  }
}

async function exportCsv() {
  try {
    const res = await request("GET", `/api/reports.csv?${params()}`);
    const url = URL.createObjectURL(await res.blob());
    const a = element("a", { href: url, download: `hotline-report-${$("start").value}.csv` });
    document.body.append(a); a.click(); a.remove();
    URL.revokeObjectURL(url);
  } catch (err) { fail(err); }
}

const today = new Date();
const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
$("start").value = iso(today);
$("end").value = iso(new Date(today.getTime() + 86400000));
$("query").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
$("csv").addEventListener("click", exportCsv);
signIn({ start: show });
