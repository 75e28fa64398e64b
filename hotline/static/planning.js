"use strict";
// Hotline shift planning: talks to /api/planning in a shift lead's or admin's session; no external assets.
// The fetch wrapper, the sign-in, the DOM helpers, say() and fail() come from common.js.
const state = { plan: null, roster: null };

const SAMPLE = {
  templates: [
    { name: "early", start: "07:00", minutes: 480, breaks: [{ offset_minutes: 240, minutes: 30 }] },
    { name: "day", start: "11:00", minutes: 480, breaks: [{ offset_minutes: 240, minutes: 30 }] },
    { name: "late", start: "15:00", minutes: 480, breaks: [{ offset_minutes: 240, minutes: 30 }] },
    { name: "night", start: "23:00", minutes: 480 },
  ],
  operators: Array.from({ length: 12 }, (_, i) => ({ id: `op-${String(i + 1).padStart(2, "0")}` })),
  rules: { max_hours_week: 40, min_rest_hours: 11, max_nights_in_row: 3 },
  time_limit_seconds: 20,
};

function number(id, scale) {
  const raw = $(id).value.trim();
  return raw === "" ? null : Number(raw) / (scale || 1);
}

function planBody() {
  const body = {
    start: $("start").value, days: number("days"), interval_minutes: number("interval"), history_weeks: number("weeks"),
    targets: { service_level: number("sl", 100), answer_within: number("within"), max_occupancy: number("occupancy", 100), shrinkage: number("shrinkage", 100) },
  };
  const abandon = number("abandon", 100);
  if (abandon) body.targets.max_abandon = abandon;
  return body;
}

function showQueues(plan) {
  const rows = plan.queues.map((q) => {
    const calls = q.calls.reduce((a, b) => a + b, 0);
    const wape = q.wape === null ? "n/a" : `${(q.wape * 100).toFixed(1)}%`;
    const patience = q.patience_seconds === null ? "none seen" : `${Math.round(q.patience_seconds)} s`;
    const texts = [q.queue, q.forecast_model.replace("_", " "), wape, Math.round(calls), patience, q.staffing_model.replace("_", " "), Math.max(...q.positions)];
    return element("tr", {}, ...texts.map((text) => cell(text)));
  });
  document.querySelector("#queues tbody").replaceChildren(...rows);
  const options = [["", "all queues"], ...plan.queues.map((q) => [q.queue, q.queue])].map(([value, label]) => element("option", { value, textContent: label }));
  $("which").replaceChildren(...options);
}

function series(plan, field) {
  const which = $("which").value;
  const queues = plan.queues.filter((q) => !which || q.queue === which);
  return plan.intervals.map((_, i) => queues.reduce((sum, q) => sum + q[field][i], 0));
}

function chart(svg, intervals, lines, step) {
  const w = 1000, h = 220, left = 34, bottom = 18, top = 8;
  const max = Math.max(1, ...lines.flatMap((l) => l.values));
  const x = (i) => left + (i / Math.max(1, intervals.length)) * (w - left - 4);
  const y = (v) => h - bottom - (v / max) * (h - bottom - top);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const nodes = [svgElement("line", { class: "axis", x1: left, y1: h - bottom, x2: w, y2: h - bottom }), svgElement("line", { class: "axis", x1: left, y1: top, x2: left, y2: h - bottom })];
  nodes.push(svgElement("text", { x: 2, y: top + 8 }, String(Math.round(max * 10) / 10)), svgElement("text", { x: 2, y: h - bottom }, "0"));
  intervals.forEach((at, i) => {
    if (!at.includes("T00:00:00")) return;  // a tick at each local midnight
    const weekday = new Date(`${at.slice(0, 10)}T12:00:00Z`).toLocaleDateString("en", { weekday: "short", timeZone: "UTC" });
    nodes.push(svgElement("line", { class: "axis", x1: x(i), y1: h - bottom, x2: x(i), y2: h - bottom + 4 }));
    nodes.push(svgElement("text", { x: x(i) + 2, y: h - 4 }, `${weekday} ${at.slice(5, 10)}`));
  });
  for (const line of lines) {
    const points = [];
    line.values.forEach((v, i) => {
      if (step) points.push(`${x(i)},${y(v)}`, `${x(i + 1)},${y(v)}`);
      else points.push(`${x(i + 0.5)},${y(v)}`);
    });
    nodes.push(svgElement("polyline", { class: line.cls, points: points.join(" "), "data-series": line.cls }));
  }
  svg.replaceChildren(...nodes);
}

function draw() {
  const plan = state.plan;
  if (!plan) return;
  chart($("forecast-chart"), plan.intervals, [{ cls: "calls", values: series(plan, "calls") }], false);
  const lines = [{ cls: "required", values: series(plan, "positions") }];
  if (state.roster && !$("which").value) lines.push({ cls: "scheduled", values: state.roster.scheduled });
  chart($("staffing-chart"), plan.intervals, lines, true);
}

async function forecast() {
  say("Forecasting…", true);
  state.plan = await api("POST", "/api/planning/forecast", planBody());
  state.roster = null;
  showQueues(state.plan);
  draw();
  const peak = Math.max(...state.plan.required);
  say(`Forecast for ${state.plan.queues.length} queue(s); peak ${peak} positions.`, true);
}

async function roster() {
  let extra;
  try { extra = JSON.parse($("roster-request").value); } catch (err) { say(`The roster request is not JSON: ${err.message}`, false); return; }
  say("Solving the roster…", true);
  const result = await api("POST", "/api/planning/roster", { ...planBody(), ...extra });
  state.plan = result.plan;
  state.roster = result;
  showQueues(state.plan);
  $("which").value = "";
  draw();
  const rows = result.operators.map((o) => element("tr", {},
    cell(o.id), cell(o.shifts.map((s) => `${s.date.slice(5)} ${s.template}`).join(", ") || "–"), cell(o.hours_per_week.map((h) => h.toFixed(1)).join(" / "))));
  document.querySelector("#operators tbody").replaceChildren(...rows);
  say(`Roster ${result.status.toLowerCase()}: ${result.hours_total.toFixed(1)} h scheduled, under-coverage ${result.under_total} interval-positions.`, true);
}

async function loadNow() {
  const now = await api("GET", `/api/planning/now?interval_minutes=${number("interval")}`);
  const t = new Date(now.interval_start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  $("now").textContent = `now (${t}): ${now.total_positions} positions`;
}

async function start() {
  try {
    await loadNow();
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    $("now").textContent = "now: no forecast yet";
  }
  signedIn();
  say("Signed in.", true);
}

$("start").value = new Date().toISOString().slice(0, 10);
$("roster-request").value = JSON.stringify(SAMPLE, null, 1);
$("plan").addEventListener("submit", (ev) => { ev.preventDefault(); forecast().catch(fail); });
$("roster").addEventListener("click", () => roster().catch(fail));
$("which").addEventListener("change", draw);
signIn({ start: () => start().catch(fail) });
