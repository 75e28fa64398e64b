"use strict";
// Hotline shift planning: talks to /api/planning in a shift lead's or admin's session; no external assets.
// The fetch wrapper, the sign-in, the DOM helpers, say() and fail() come from common.js; the roster's
// form and calendars from planning-roster.js, loaded after this script (it fills in rosterPart).

// Every word this page and planning-roster.js show is in i18n-planning.js (t("planning.…")); the
// weekdays, numbers, percentages and dates are the language's own (Intl, through i18n.js).

/** A weekday's name in the page's language, Monday 0 ("long" or "short"). */
function weekdayName(i, width) {
  return formatDateTime(new Date(Date.UTC(2026, 10, 23 + i, 12)), "UTC", { weekday: width });  // 2026-11-23: a Monday
}

/** A local date ("2026-11-23…") as a short day in the page's language, e.g. "Mon 23/11". */
function dayLabel(at) {
  return formatDateTime(new Date(`${at.slice(0, 10)}T12:00:00Z`), "UTC", { weekday: "short", day: "numeric", month: "numeric" });
}

const state = { plan: null, roster: null, now: null, setup: { timezone: "UTC", operators: [] }, submitted: null, topics: [] };

/** A queue by the names of the topics it answers, in the page's language from the live IVR
 * (GET /api/topics); its id when no topic leads to it or the topics cannot be read. */
function queueName(id) {
  const names = state.topics.filter((x) => x.queue === id)
    .map((x) => x.names[i18n.language] || x.names.en || Object.values(x.names)[0] || x.id);
  return names.length ? names.join(", ") : id;
}

/** What planning-roster.js adds when it loads: the people's form, the calendars, and where a
 * problem of the roster's request (a shift, a person) shows. */
const rosterPart = { showPeople() {}, showCalendars() {}, place() { return null; }, redraw() {} };

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
  return x === null || x === undefined ? t("planning.not_available") : formatPercent(x, 1);
}

function showQueues(plan) {
  const rows = plan.queues.map((q) => {
    const calls = q.calls.reduce((a, b) => a + b, 0);
    const patience = q.patience_seconds === null ? t("planning.no_patience") : t("planning.seconds_value", { s: formatNumber(q.patience_seconds) });
    const model = (name) => (hasText(`planning.model.${name}`) ? t(`planning.model.${name}`) : name);
    const wape = cell(wapeText(q.wape), q.worse_than_naive ? "worse" : "");
    if (q.worse_than_naive) wape.append(element("span", { className: "flag", textContent: ` \u26a0 ${t("planning.worse")}` }));
    const texts = [formatNumber(calls), patience, model(q.staffing_model), formatNumber(Math.max(...q.agents)), formatNumber(Math.max(...q.positions))];
    return element("tr", {}, cell(queueName(q.queue)), cell(model(q.forecast_model)), wape, cell(wapeText(q.naive_wape)), ...texts.map((text) => cell(text)));
  });
  document.querySelector("#queues tbody").replaceChildren(...rows);
  const chosen = $("which").value;
  const options = [["", t("planning.all_queues")], ...plan.queues.map((q) => [q.queue, queueName(q.queue)])].map(([value, label]) => element("option", { value, textContent: label }));
  $("which").replaceChildren(...options);
  $("which").value = chosen;
  if ($("which").selectedIndex < 0) $("which").value = "";
  warn(plan);
}

/** The warning above the table when any queue's forecast did worse than the naive one. */
function warn(plan) {
  const worse = plan.queues.filter((q) => q.worse_than_naive);
  const box = $("forecast-warning");
  box.hidden = worse.length === 0;
  const named = worse.map((q) => t("planning.warning_queue", { queue: queueName(q.queue), wape: wapeText(q.wape), naive: wapeText(q.naive_wape) }));
  box.textContent = worse.length ? `\u26a0 ${t("planning.warning", { queues: named.join(", ") })}` : "";
}

function showZone() {
  const zone = $("zone").value.trim() || state.setup.timezone, configured = state.setup.timezone;
  $("zone-note").textContent = zone === configured ? t("planning.zone_note_same", { zone }) : t("planning.zone_note_other", { zone, configured });
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
  nodes.push(svgElement("text", { x: 2, y: top + 8 }, formatNumber(max, 1)), svgElement("text", { x: 2, y: h - bottom }, formatNumber(0)));
  intervals.forEach((at, i) => {
    if (!at.includes("T00:00:00")) return;  // a tick at each local midnight
    nodes.push(svgElement("line", { class: "axis", x1: x(i), y1: h - bottom, x2: x(i), y2: h - bottom + 4 }));
    nodes.push(svgElement("text", { x: x(i) + 2, y: h - 4 }, dayLabel(at)));
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
  clearProblems();
  say(t("planning.forecasting"), true);
  state.plan = await api("POST", "/api/planning/forecast", planBody());
  state.roster = null;
  $("roster-result").hidden = true;
  showQueues(state.plan);
  draw();
  const peak = Math.max(...state.plan.required);
  say(t("planning.forecast_done", { n: state.plan.queues.length, peak: formatNumber(peak) }), true);
}

/** The roster's answer: the charts, the table of queues and both calendars (planning-roster.js). */
function showRoster(result) {
  state.plan = result.plan;
  state.roster = result;
  showQueues(state.plan);
  $("which").value = "";
  draw();
  rosterPart.showCalendars(result);
  const status = hasText(`planning.status.${result.status}`) ? t(`planning.status.${result.status}`) : result.status;
  say(t("planning.roster_done", { status, hours: formatNumber(result.hours_total, 1), under: formatNumber(result.under_total) }), true);
}

/** The positions needed now (or that there is no forecast yet), in the page's language. */
function showNow() {
  const now = state.now;
  $("now").textContent = now ? t("planning.now_line", { time: now.interval_start.slice(11, 16), positions: formatNumber(now.total_positions) }) : t("planning.now_none");
}

async function loadNow() {
  const now = await api("GET", "/api/planning/now");  // in the line's time zone
  state.now = now;
  showNow();
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
    showNow();
  }
  state.topics = await api("GET", "/api/topics").catch(() => []);
  state.setup = await api("GET", "/api/planning/setup");
  $("zone").value = state.setup.timezone;
  $("start").value = todayIn(state.setup.timezone);
  showZone();
  rosterPart.showPeople(state.setup.operators);
  signedIn();
  say(t("planning.signed_in"), true);
}

/** The glossary of the figures (the hints and the fields' explanations are data-i18n in the HTML). */
function explainAll() {
  const terms = ["wape", "naive", "calls", "patience", "agents", "positions"].flatMap((key) => [
    element("dt", { textContent: t(`planning.glossary.${key}`) }), element("dd", { textContent: t(`planning.explain.${key}`) })]);
  $("glossary").replaceChildren(...terms);
}

/** Everything the scripts wrote, again in the language just chosen (what people typed stays). */
function redraw() {
  explainAll();
  showNow();
  if ($("zone").value) showZone();
  if (state.plan) { showQueues(state.plan); draw(); }
  rosterPart.redraw();
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

translatePage();
explainAll();
onLanguage(redraw);
$("zone").addEventListener("input", showZone);
$("plan").addEventListener("submit", (ev) => { ev.preventDefault(); forecast().catch(showProblem); });
$("which").addEventListener("change", draw);
signIn({ start: () => start().catch(fail) });
