"use strict";
// The planning page's roster (issue 19, item 5), loaded after planning.js (whose state, planBody(),
// number(), weekdayName(), dayLabel(), showRoster() and problem helpers it uses; its words are in
// i18n-planning.js): the shifts as a
// small table, who can be rostered (the line's active accounts, each with availability per weekday
// and days off), the request built from them, and the result as two calendars (per operator and per
// interval). Everything it declares stays inside this function; it hands planning.js what it needs
// through `rosterPart`.
(() => {
  const DEFAULT_TEMPLATES = [  // names: planning.shift.<name> in the page's language
    { name: "early", start: "07:00", end: "15:00", breakAt: "11:00", breakMinutes: 30 },
    { name: "day", start: "11:00", end: "19:00", breakAt: "15:00", breakMinutes: 30 },
    { name: "late", start: "15:00", end: "23:00", breakAt: "19:00", breakMinutes: 30 },
    { name: "night", start: "23:00", end: "07:00", breakAt: "", breakMinutes: "" },
  ];
  const FIELD_WORDS = { name: "name", start: "start", end: "end", breakAt: "break_at", breakMinutes: "break_minutes" };
  const person = (p) => `${p.display_name} (${p.id})`;
  const TEMPLATE_FIELDS = [["name", "text"], ["start", "time"], ["end", "time"], ["breakAt", "time"], ["breakMinutes", "number"]];
  const ROLES_IN_BY_DEFAULT = new Set(["operator", "senior", "shift_lead"]);  // admins are ticked by hand
  const people = new Map();  // id -> { person, in, days: [{ mode, from, to }] x 7, off: Set of dates, node }

  function clock(text) {
    const [h, m] = text.split(":").map(Number);
    return h * 60 + m;
  }

  // --- The shifts ---------------------------------------------------------------------------------

  function templateRow(shift) {
    const inputs = TEMPLATE_FIELDS.map(([field, type]) => {
      const input = element("input", { type, value: shift[field] ?? "" });
      input.dataset.field = field;
      if (type === "number") Object.assign(input, { min: 0, max: 180, step: 5 });
      if (field === "name") input.maxLength = 40;
      return input;
    });
    const remove = element("button", { type: "button", textContent: t("planning.th.remove") });
    const row = element("tr", {}, ...inputs.map((input) => element("td", {}, input)), element("td", {}, remove));
    remove.addEventListener("click", () => { row.remove(); labelTemplates(); });
    return row;
  }

  function labelTemplates() {
    document.querySelectorAll("#templates tbody tr").forEach((row, i) => {
      const label = (what) => t("planning.template_label", { n: i + 1, what: t(`planning.template.${what}`) });
      row.querySelectorAll("input").forEach((input) => input.setAttribute("aria-label", label(FIELD_WORDS[input.dataset.field])));
      row.querySelector("button").textContent = t("planning.th.remove");
      row.querySelector("button").setAttribute("aria-label", label("remove"));
    });
  }

  function showTemplates(templates) {
    document.querySelector("#templates tbody").replaceChildren(...templates.map(templateRow));
    labelTemplates();
  }

  function addTemplate(shift) {
    document.querySelector("#templates tbody").append(templateRow(shift));
    labelTemplates();
    document.querySelector("#templates tbody tr:last-child input").focus();
  }

  /** The shifts as the API takes them, and each problem found at its input. */
  function readTemplates() {
    const templates = [], problems = [];
    document.querySelectorAll("#templates tbody tr").forEach((row) => {
      const value = (field) => row.querySelector(`[data-field="${field}"]`);
      const [name, start, end, breakAt, breakMinutes] = TEMPLATE_FIELDS.map(([field]) => value(field));
      if (!name.value.trim()) problems.push([name, t("planning.need_name")]);
      if (!start.value || !end.value) { problems.push([start.value ? end : start, t("planning.need_times")]); return; }
      if (Boolean(breakAt.value) !== (breakMinutes.value !== "")) problems.push([breakAt.value ? breakMinutes : breakAt, t("planning.need_both")]);
      const from = clock(start.value);
      const breaks = breakAt.value && breakMinutes.value !== "" ? [{ offset_minutes: (clock(breakAt.value) - from + 1440) % 1440, minutes: Number(breakMinutes.value) }] : [];
      templates.push({ name: name.value.trim(), start: start.value, minutes: (clock(end.value) - from + 1440) % 1440 || 1440, breaks, row });
    });
    return { templates, problems };
  }

  // --- Who can be rostered ----------------------------------------------------------------------------

  function showPeople(operators) {
    people.clear();
    const nodes = operators.map((person) => {
      const entry = { person, in: ROLES_IN_BY_DEFAULT.has(person.role), days: [0, 1, 2, 3, 4, 5, 6].map(() => ({ mode: "any", from: "08:00", to: "20:00" })), off: new Set() };
      people.set(person.id, entry);
      entry.node = personNode(entry);
      return entry.node;
    });
    $("people").replaceChildren(...(nodes.length ? nodes : [element("p", { className: "hint", textContent: t("planning.no_people") })]));
    $("as-json").open = nodes.length === 0;  // with nobody to list, JSON is the way in
  }

  function personNode(entry) {
    const name = entry.person.display_name;
    const summary = element("span", { className: "summary" });
    const box = element("input", { type: "checkbox", checked: entry.in });
    box.addEventListener("change", () => { entry.in = box.checked; summarise(entry); });
    const hours = element("input", { type: "number", min: 1, max: 80, step: 1, className: "hours", value: entry.hours ? entry.hours.value : "" });
    hours.setAttribute("aria-label", `${name}: ${t("planning.most_hours")}`);
    entry.hours = hours;
    const week = element("div", { className: "week" }, ...entry.days.map((day, i) => dayNode(entry, day, i)));
    const chips = element("ul", { className: "chips" });
    const date = element("input", { type: "date" });
    date.setAttribute("aria-label", `${name}: ${t("planning.add_day_off")}`);
    const add = element("button", { type: "button", textContent: t("planning.add") });
    add.addEventListener("click", () => { if (date.value) { entry.off.add(date.value); date.value = ""; showDaysOff(entry, chips); } });
    const node = element("details", { className: "person" },
      element("summary", {}, element("strong", { textContent: person(entry.person) }), " ", summary),
      element("div", { className: "row" }, element("label", {}, box, ` ${t("planning.in_roster")}`), element("label", {}, `${t("planning.most_hours")} `, hours)),
      week,
      element("div", { className: "row days-off" }, element("span", { textContent: t("planning.days_off") }), chips, date, add),
      element("p", { className: "problem", hidden: true }));
    node.dataset.id = entry.person.id;
    entry.summary = summary;
    showDaysOff(entry, chips);
    return node;
  }

  function dayNode(entry, day, i) {
    const name = entry.person.display_name, weekday = weekdayName(i, "long");
    const mode = element("select", {}, ...["any", "off", "hours"].map((value) => element("option", { value, textContent: t(`planning.availability.${value}`) })));
    mode.value = day.mode;
    mode.setAttribute("aria-label", `${name}: ${weekday}`);
    const times = ["from", "to"].map((end) => {
      const input = element("input", { type: "time", value: day[end] });
      input.setAttribute("aria-label", `${name}: ${weekday} ${t(`planning.${end}`)}`);
      input.addEventListener("change", () => { day[end] = input.value; });
      return input;
    });
    const between = element("span", { className: "between", hidden: day.mode !== "hours" }, times[0], " \u2013 ", times[1]);
    mode.addEventListener("change", () => { day.mode = mode.value; between.hidden = day.mode !== "hours"; summarise(entry); });
    return element("div", { className: "day" }, element("span", { className: "weekday", textContent: weekdayName(i, "short") }), mode, between);
  }

  function showDaysOff(entry, chips) {
    chips.replaceChildren(...[...entry.off].sort().map((d) => {
      const remove = element("button", { type: "button", textContent: "\u00d7" });
      remove.setAttribute("aria-label", t("planning.remove_day", { day: formatDateTime(`${d}T12:00:00Z`, "UTC", { dateStyle: "long" }) }));
      remove.addEventListener("click", () => { entry.off.delete(d); showDaysOff(entry, chips); });
      return element("li", {}, `${formatDateTime(`${d}T12:00:00Z`, "UTC", { dateStyle: "medium" })} `, remove);
    }));
    summarise(entry);
  }

  function summarise(entry) {
    const open = entry.days.filter((d) => d.mode !== "off").length;
    const limited = entry.off.size || entry.days.some((d) => d.mode !== "any");
    const days = () => [t("planning.summary_days", { n: open }), ...(entry.off.size ? [t("planning.summary_off", { n: entry.off.size })] : [])].join(", ");
    entry.summary.textContent = !entry.in ? t("planning.summary_out") : limited ? days() : t("planning.summary_any");
  }

  /** When one can work, as the API's windows: none given means any time; a weekday of "any shift"
   * becomes one window per shift starting that day (a window is at most a day long, a night shift
   * runs into the next). */
  function windows(entry, templates) {
    if (entry.days.every((d) => d.mode === "any")) return null;
    return entry.days.flatMap((day, i) => {
      const weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][i];
      if (day.mode === "off") return [];
      if (day.mode === "hours") return [{ weekday, start: day.from, end: day.to }];
      return templates.map((shift) => ({ weekday, start: shift.start, end: clockText((clock(shift.start) + shift.minutes) % 1440) }));
    });
  }

  function clockText(minutes) {
    return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
  }

  function operatorsOf(templates) {
    return [...people.values()].filter((e) => e.in).map((e) => {
      const o = { id: e.person.id, available: windows(e, templates), days_off: [...e.off].sort() };
      if (e.hours.value) o.max_hours_week = Number(e.hours.value);
      return o;
    });
  }

  // --- The request, its problems at their place ----------------------------------------------------

  function rosterBody() {
    let extra = {};
    const json = $("roster-request").value.trim();
    if (json) {
      try { extra = JSON.parse(json); } catch (err) { return { problems: [[$("roster-request"), t("planning.not_json", { message: err.message })]] }; }
    }
    const { templates, problems } = readTemplates();
    const operators = operatorsOf(templates);
    const mine = problems.filter(() => !extra.templates);
    if (!extra.operators && !operators.length) mine.push([$("people"), t("planning.need_people")]);
    const rules = { max_hours_week: number("rule-hours"), min_rest_hours: number("rule-rest"), max_nights_in_row: number("rule-nights") };
    const body = { ...planBody(), templates: templates.map(({ row, ...shift }) => shift), operators, rules, time_limit_seconds: number("rule-limit"), ...extra };
    return { body, problems: mine, rows: templates.map((shift) => shift.row), ids: extra.operators ? [] : operators.map((o) => o.id) };
  }

  async function makeRoster() {
    clearProblems();
    const { body, problems, rows, ids } = rosterBody();
    if (problems.length) {
      problems.forEach(([input, text]) => markProblem(input, text));
      say(problems[0][1], false);
      return;
    }
    state.submitted = { rows, ids };
    say(t("planning.solving"), true);
    showRoster(await api("POST", "/api/planning/roster", body));
  }

  const TEMPLATE_INPUTS = { name: "name", start: "start", minutes: "end", breaks: "breakAt" };

  /** The input or person a problem's `where` points at (body.templates.0.start, body.operators.2…). */
  function place(first, index, field) {
    const submitted = state.submitted || { rows: [], ids: [] };
    if (first === "templates" && submitted.rows[index]) {
      return submitted.rows[index].querySelector(`[data-field="${TEMPLATE_INPUTS[field] || "name"}"]`);
    }
    if (first === "operators") {
      const entry = people.get(submitted.ids[index]);
      return entry ? entry.node : $("roster-request");
    }
    return null;
  }

  // --- The result as calendars ---------------------------------------------------------------------

  function showCalendars(result) {
    const plan = result.plan, perDay = 1440 / plan.interval_minutes;
    const days = Array.from({ length: plan.days }, (_, d) => plan.intervals[d * perDay].slice(0, 10));
    const heads = days.map((d) => element("th", { scope: "col", textContent: dayLabel(d) }));
    $("calendar").tHead.replaceChildren(element("tr", {}, element("th", { scope: "col", textContent: t("planning.operator") }), ...heads, element("th", { scope: "col", textContent: t("planning.hours") })));
    $("calendar").tBodies[0].replaceChildren(...result.operators.map((o) => operatorRow(o, days)));
    const cover = heads.map((h) => h.cloneNode(true));
    $("cover").tHead.replaceChildren(element("tr", {}, element("th", { scope: "col", textContent: t("planning.time") }), ...cover));
    const rows = Array.from({ length: perDay }, (_, k) => element("tr", {},
      element("th", { scope: "row", textContent: plan.intervals[k].slice(11, 16) }),
      ...days.map((_, d) => coverCell(plan.required[d * perDay + k], result.scheduled[d * perDay + k], result.under[d * perDay + k]))));
    $("cover").tBodies[0].replaceChildren(...rows);
    const short = result.under.filter((u) => u > 0).length;
    const status = hasText(`planning.status.${result.status}`) ? t(`planning.status.${result.status}`) : result.status;
    const figures = { status, hours: formatNumber(result.hours_total, 1), under: formatNumber(result.under_total), n: short };
    $("roster-summary").textContent = t(result.under_total ? "planning.roster_short" : "planning.roster_covered", figures);
    $("roster-result").hidden = false;
  }

  function operatorRow(o, days) {
    const entry = people.get(o.id);
    const name = entry ? person(entry.person) : o.id;
    const cells = days.map((day) => {
      const shifts = o.shifts.filter((s) => s.date === day);
      if (shifts.length) return element("td", { className: "shift" }, ...shifts.map((s) => element("span", {}, element("strong", { textContent: s.template }), ` ${s.start.slice(11, 16)}\u2013${s.end.slice(11, 16)}`)));
      return entry && entry.off.has(day) ? cell(t("planning.day_off"), "off") : cell("");
    });
    return element("tr", {}, element("th", { scope: "row", textContent: name }), ...cells, cell(o.hours_per_week.map((h) => formatNumber(h, 1)).join(" / ")));
  }

  function coverCell(needed, rostered, under) {
    if (!needed && !rostered) return cell("\u00b7", "idle");
    const td = cell(`${formatNumber(rostered)}/${formatNumber(needed)}`, under > 0 ? "short" : "");
    if (under > 0) td.append(" ", element("strong", { className: "flag", textContent: t("planning.short", { n: formatNumber(under) }) }));
    return td;
  }

  /** The roster's words again in the language just chosen: what people typed and ticked stays. */
  function redraw() {
    labelTemplates();
    if (!people.size && $("zone").value) showPeople(state.setup.operators);  // "nobody yet", once the setup came
    for (const entry of people.values()) {
      const open = entry.node.open, node = personNode(entry);
      node.open = open;
      entry.node.replaceWith(node);
      entry.node = node;
    }
    if (state.roster) showCalendars(state.roster);
  }

  Object.assign(rosterPart, { showPeople, showCalendars, place, redraw });
  showTemplates(DEFAULT_TEMPLATES.map((d) => ({ ...d, name: t(`planning.shift.${d.name}`) })));
  $("add-template").addEventListener("click", () => addTemplate({ name: "", start: "", end: "" }));
  $("roster").addEventListener("click", () => makeRoster().catch(showProblem));
})();
