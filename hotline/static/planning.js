"use strict";
// Hotline shift planning: talks to /api/planning in a shift lead's or admin's session; no external assets.
// The fetch wrapper, the sign-in, the DOM helpers, say() and fail() come from common.js; the roster's
// form and calendars from planning-roster.js, loaded after this script (it fills in rosterPart).

/** Every sentence this page and planning-roster.js show, in one place for a translation catalogue (issue 19). */
const PLAN_TEXT = {
  planHint: "From the call records of the weeks before the first day: a forecast per queue (the better of a weighted average and Holt-Winters, by backtest), then the people each interval needs (Erlang A; Erlang C where no caller ever abandoned).",
  zoneNote: (zone, configured) => zone === configured
    ? `All days and times on this page are in ${zone}, the line's configured time zone.`
    : `All days and times on this page are in ${zone} (the line's configured time zone is ${configured}).`,
  explain: {
    zone: "The line's time zone is set by the administrator (metrics.timezone); change it here only to plan in another one.",
    service_level: "Service level: the share of callers answered within that many seconds. 80% within 20 s means 8 callers in 10 wait 20 seconds or less.",
    abandon: "Optional: at most this share of callers may hang up while they wait. Leave it empty to plan by the service level alone.",
    occupancy: "Occupancy: the share of an operator's time on the phones spent on calls. Above about 85% people have no breath between calls and burn out: the plan adds people to stay under this cap.",
    shrinkage: "Shrinkage: the share of rostered time nobody can take calls (breaks, debriefs, training, sickness). At 30%, 10 people rostered give 7 on the phones.",
    wape: "Backtest WAPE: the forecast was tried on the last weeks of the history as if they had not happened yet; WAPE is how far off it was in total, as a share of the calls that came. 15% means it missed by about 15 calls in every 100. Lower is better.",
    naive: "Naive WAPE: the same test for the simplest guess, \u201cthe same time last week\u201d. A forecast worth trusting misses by less than that.",
    calls: "Calls: the forecast calls over the planned days.",
    patience: "Patience: how long callers wait on average before they hang up, from the history. \u201cNone seen\u201d: nobody hung up, so Erlang C is used.",
    agents: "Peak agents (Erlang): the most operators needed on the phones at once, in the busiest interval, to reach the service level for the forecast calls and call lengths. Erlang A counts callers who hang up; Erlang C assumes nobody does.",
    positions: "Peak positions: agents grown by the shrinkage (agents \u00f7 (1 \u2212 shrinkage), rounded up): the people to roster for that interval.",
  },
  glossary: { wape: "Backtest WAPE", naive: "Naive WAPE", calls: "Calls", patience: "Patience", agents: "Peak agents", positions: "Peak positions" },
  notAvailable: "n/a",
  worse: "worse than naive",
  noPatience: "none seen",
  seconds: (s) => `${Math.round(s)} s`,
  percent: (x) => `${(x * 100).toFixed(1)}%`,
  models: { weighted_average: "weighted average", holt_winters: "Holt-Winters", erlang_a: "Erlang A", erlang_c: "Erlang C" },
  warning: (queues) => `Warning: the forecast for ${queues} does worse than a naive guess (the same time last week). Its staffing figures are unreliable: check the history for unusual weeks (an outage, a campaign, changed opening hours), or plan from last week's numbers.`,
  warningQueue: (q, wape, naive) => `${q} (error ${wape} against ${naive} for the naive guess)`,
  allQueues: "all queues",
  forecasting: "Forecasting…",
  forecastDone: (queues, peak) => `Forecast for ${queues} queue(s); peak ${peak} positions.`,
  nowLine: (time, positions) => `now (${time}): ${positions} positions`,
  nowNone: "now: no forecast yet",
  signedIn: "Signed in.",
  // the roster (planning-roster.js)
  rosterHint: "Shifts, who can work when, and the rules: the roster covers the positions above with the least under-coverage, then the fewest hours.",
  peopleHint: "The line's active accounts. Tick who is in this roster, then say when each can work: any shift, not that weekday, or only between two times (a window ending at or before its start ends the next morning). Days off are dates; most hours a week left empty means the rules' limit.",
  jsonHint: "Fields given here (templates, operators, rules, time_limit_seconds) replace the form's. Leave it empty to use the form.",
  noPeople: "No active operator accounts yet: add people on the admin page, or give the operators as JSON below.",
  template: { name: "name", start: "starts", end: "ends", breakAt: "break at", breakMinutes: "break minutes", remove: "Remove" },
  templateLabel: (i, what) => `Shift ${i + 1} ${what}`,
  person: (p) => `${p.display_name} (${p.id})`,
  inRoster: "In this roster",
  mostHours: "most hours a week",
  weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
  weekdaysShort: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
  availability: { any: "any shift", off: "not available", hours: "between…" },
  from: "from", to: "to",
  daysOff: "Days off",
  addDayOff: "add a day off",
  add: "Add",
  removeDay: (d) => `Remove ${d}`,
  summaryOut: "not in this roster",
  summaryAny: "any shift, any day",
  summaryLimited: (days, off) => `${days} of 7 weekdays${off ? `, ${off} day(s) off` : ""}`,
  needBoth: "Give both the break's time and its length, or neither.",
  needName: "Every shift needs a name.",
  needTimes: "Give the start and the end.",
  needPeople: "Tick at least one person for this roster.",
  notJson: (message) => `The JSON is not valid: ${message}`,
  solving: "Solving the roster…",
  rosterDone: (status, hours, under) => `Roster ${status}: ${hours} h scheduled, under-coverage ${under} interval-positions.`,
  rosterSummary: (status, hours, under, slots) => under
    ? `${status}: ${hours} h rostered; ${under} position(s) short over ${slots} interval(s), marked \u201cshort\u201d below.`
    : `${status}: ${hours} h rostered; every interval is covered.`,
  statuses: { OPTIMAL: "Best possible roster", FEASIBLE: "A good roster (the solver ran out of time before proving it best)", INFEASIBLE: "No roster fits these rules", UNKNOWN: "No roster found in the time given" },
  operator: "Operator",
  hours: "Hours per week",
  dayOff: "day off",
  time: "Time",
  coverHint: "Each cell: people rostered / people needed for that interval. \u201cshort n\u201d: n people missing. A dot: nobody needed or rostered.",
  short: (n) => `short ${n}`,
  coverCell: (rostered, needed) => `${rostered}/${needed}`,
};

const state = { plan: null, roster: null, setup: { timezone: "UTC", operators: [] }, submitted: null };

/** What planning-roster.js adds when it loads: the people's form, the calendars, and where a
 * problem of the roster's request (a shift, a person) shows. */
const rosterPart = { showPeople() {}, showCalendars() {}, place() { return null; } };

function number(id, scale) {
  const raw = $(id).value.trim();
  return raw === "" ? null : Number(raw) / (scale || 1);
}

function planBody() {
  const body = {
    start: $("start").value, days: number("days"), interval_minutes: number("interval"), history_weeks: number("weeks"),
    timezone: $("zone").value.trim() || state.setup.timezone,
    targets: { service_level: number("sl", 100), answer_within: number("within"), max_occupancy: number("occupancy", 100), shrinkage: number("shrinkage", 100) },
  };
  const abandon = number("abandon", 100);
  if (abandon) body.targets.max_abandon = abandon;
  return body;
}

function wapeText(x) {
  return x === null || x === undefined ? PLAN_TEXT.notAvailable : PLAN_TEXT.percent(x);
}

function showQueues(plan) {
  const rows = plan.queues.map((q) => {
    const calls = q.calls.reduce((a, b) => a + b, 0);
    const patience = q.patience_seconds === null ? PLAN_TEXT.noPatience : PLAN_TEXT.seconds(q.patience_seconds);
    const model = (name) => PLAN_TEXT.models[name] || name;
    const wape = cell(wapeText(q.wape), q.worse_than_naive ? "worse" : "");
    if (q.worse_than_naive) wape.append(element("span", { className: "flag", textContent: ` \u26a0 ${PLAN_TEXT.worse}` }));
    const texts = [Math.round(calls), patience, model(q.staffing_model), Math.max(...q.agents), Math.max(...q.positions)];
    return element("tr", {}, cell(q.queue), cell(model(q.forecast_model)), wape, cell(wapeText(q.naive_wape)), ...texts.map((text) => cell(text)));
  });
  document.querySelector("#queues tbody").replaceChildren(...rows);
  const options = [["", PLAN_TEXT.allQueues], ...plan.queues.map((q) => [q.queue, q.queue])].map(([value, label]) => element("option", { value, textContent: label }));
  $("which").replaceChildren(...options);
  warn(plan);
}

/** The warning above the table when any queue's forecast did worse than the naive one. */
function warn(plan) {
  const worse = plan.queues.filter((q) => q.worse_than_naive);
  const box = $("forecast-warning");
  box.hidden = worse.length === 0;
  box.textContent = worse.length ? `\u26a0 ${PLAN_TEXT.warning(worse.map((q) => PLAN_TEXT.warningQueue(q.queue, wapeText(q.wape), wapeText(q.naive_wape))).join(", "))}` : "";
}

function showZone() {
  $("zone-note").textContent = PLAN_TEXT.zoneNote($("zone").value.trim() || state.setup.timezone, state.setup.timezone);
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
    nodes.push(svgElement("line", { class: "axis", x1: x(i), y1: h - bottom, x2: x(i), y2: h - bottom + 4 }));
    nodes.push(svgElement("text", { x: x(i) + 2, y: h - 4 }, `${weekdayOf(at)} ${at.slice(5, 10)}`));
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

/** The short weekday of a local date-time string ("2026-11-23T…" is a Monday). */
function weekdayOf(at) {
  const day = new Date(`${at.slice(0, 10)}T12:00:00Z`).getUTCDay();
  return PLAN_TEXT.weekdaysShort[(day + 6) % 7];
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
  clearProblems();
  say(PLAN_TEXT.forecasting, true);
  state.plan = await api("POST", "/api/planning/forecast", planBody());
  state.roster = null;
  $("roster-result").hidden = true;
  showQueues(state.plan);
  draw();
  const peak = Math.max(...state.plan.required);
  say(PLAN_TEXT.forecastDone(state.plan.queues.length, peak), true);
}

/** The roster's answer: the charts, the table of queues and both calendars (planning-roster.js). */
function showRoster(result) {
  state.plan = result.plan;
  state.roster = result;
  showQueues(state.plan);
  $("which").value = "";
  draw();
  rosterPart.showCalendars(result);
  const status = result.status.toLowerCase();
  say(PLAN_TEXT.rosterDone(status, result.hours_total.toFixed(1), result.under_total), true);
}

async function loadNow() {
  const now = await api("GET", "/api/planning/now");  // in the line's time zone
  $("now").textContent = PLAN_TEXT.nowLine(now.interval_start.slice(11, 16), now.total_positions);
}

/** Today in a time zone, as YYYY-MM-DD. */
function todayIn(zone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  } catch (err) {
    return new Date().toISOString().slice(0, 10);
  }
}

async function start() {
  try {
    await loadNow();
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    $("now").textContent = PLAN_TEXT.nowNone;
  }
  state.setup = await api("GET", "/api/planning/setup");
  $("zone").value = state.setup.timezone;
  $("start").value = todayIn(state.setup.timezone);
  showZone();
  rosterPart.showPeople(state.setup.operators);
  signedIn();
  say(PLAN_TEXT.signedIn, true);
}

function explainAll() {
  $("plan-hint").textContent = PLAN_TEXT.planHint;
  for (const [id, key] of [["zone-explain", "zone"], ["sl-explain", "service_level"], ["abandon-explain", "abandon"], ["occupancy-explain", "occupancy"], ["shrinkage-explain", "shrinkage"]]) {
    $(id).textContent = PLAN_TEXT.explain[key];
  }
  const terms = Object.entries(PLAN_TEXT.glossary).flatMap(([key, term]) => [element("dt", { textContent: term }), element("dd", { textContent: PLAN_TEXT.explain[key] })]);
  $("glossary").replaceChildren(...terms);
  $("roster-hint").textContent = PLAN_TEXT.rosterHint;
  $("people-hint").textContent = PLAN_TEXT.peopleHint;
  $("json-hint").textContent = PLAN_TEXT.jsonHint;
  $("cover-hint").textContent = PLAN_TEXT.coverHint;
}

// --- Problems at their place ----------------------------------------------------------------------

const RULE_INPUTS = { max_hours_week: "rule-hours", min_rest_hours: "rule-rest", max_nights_in_row: "rule-nights" };
const PLAN_INPUTS = { start: "start", days: "days", interval_minutes: "interval", history_weeks: "weeks", timezone: "zone", time_limit_seconds: "rule-limit" };
const TARGET_INPUTS = { service_level: "sl", answer_within: "within", max_abandon: "abandon", max_occupancy: "occupancy", shrinkage: "shrinkage" };

/** The input a problem's `where` (body.targets.shrinkage, body.rules.min_rest_hours, body.templates.0.start…) points at. */
function placeOf(where) {
  const [root, first, second, third] = (where || "").split(".");
  if (root !== "body") return null;
  if (first === "templates" || first === "operators") return rosterPart.place(first, Number(second), third);
  if (first === "rules") return $(RULE_INPUTS[second]) || null;
  if (first === "targets") return $(TARGET_INPUTS[second]) || null;
  return PLAN_INPUTS[first] ? $(PLAN_INPUTS[first]) : null;
}

/** A problem shown next to its input (or inside a person's box), the input marked invalid. */
function markProblem(place, text) {
  if (place.tagName === "DETAILS") {
    place.open = true;
    const note = place.querySelector(".problem");
    note.hidden = false;
    note.textContent = text;
    return;
  }
  const note = element("span", { className: "problem", id: `problem-${document.querySelectorAll(".problem").length}`, textContent: text });
  place.setAttribute("aria-invalid", "true");
  place.setAttribute("aria-describedby", `${place.getAttribute("aria-describedby") || ""} ${note.id}`.trim());
  place.dataset.problem = note.id;
  (place.closest("label, td") || place).after(note);
}

function clearProblems() {
  document.querySelectorAll("span.problem").forEach((n) => n.remove());
  document.querySelectorAll("p.problem").forEach((n) => { n.hidden = true; n.textContent = ""; });
  document.querySelectorAll("[aria-invalid]").forEach((input) => {
    input.removeAttribute("aria-invalid");
    const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== input.dataset.problem);
    if (rest.length) input.setAttribute("aria-describedby", rest.join(" ")); else input.removeAttribute("aria-describedby");
  });
}

/** A failed request: in the message area, and each listed problem at its place on the page. */
function showProblem(err) {
  fail(err);
  for (const d of err.details || []) {
    const place = placeOf(d.where);
    if (place) markProblem(place, d.problem || d.message || err.message);
  }
}

explainAll();
$("zone").addEventListener("input", showZone);
$("plan").addEventListener("submit", (ev) => { ev.preventDefault(); forecast().catch(showProblem); });
$("which").addEventListener("change", draw);
signIn({ start: () => start().catch(fail) });
