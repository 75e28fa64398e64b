"use strict";
// The operator's own page: state, presence, escalation, pause history. Talks to /api in the
// operator's session (common.js's sign-in); no external assets. The fetch wrapper, the sign-in,
// the DOM helpers and say() come from common.js. Every word from i18n-operator.js (t()), redrawn
// when the language changes.
const state = { me: null, pauses: [], ctx: null };

/** A time of day in the page's language (empty when there is none). */
function time(value) { return value ? formatDateTime(value, undefined, { timeStyle: "medium" }) : ""; }

/** The words of a key's family for a code the server sends (the code itself when it is new). */
function named(family, code) {
  return hasText(`${family}.${code}`) ? t(`${family}.${code}`) : String(code).replaceAll("_", " ");
}

function show(me) {
  state.me = me;
  const s = me.state;
  $("who").textContent = `${me.display_name} (${me.id})`;
  $("op-status").textContent = named("operator.status", s.status);
  $("op-status").dataset.status = s.status;
  $("op-reason").textContent = s.paused_reason ? `(${named("operator.reason", s.paused_reason)})` : "";
  $("op-since").textContent = s.since ? t("operator.now.since", { time: time(s.since) }) : "";
  $("op-queues").textContent = s.queues.join(", ") || t("operator.now.no_queues");
  $("op-calls").textContent = formatNumber(s.calls_taken);
  $("notices").replaceChildren(...s.notices.map((n) => {
    const message = noticeText(n);
    return element("li", {
      textContent: n.until ? t("operator.now.until", { message, time: time(n.until) }) : message, className: n.rule });
  }));
}

/** A guard's notice in the page's language from its rule and figures (its own English words for
 * a rule this page does not know). */
function noticeText(n) {
  const key = `operator.notice.${n.rule}`;
  const figures = n.figures || {};
  if (!Object.keys(figures).length || !hasText(key)) return n.message;
  const shown = {};
  for (const [name, value] of Object.entries(figures)) shown[name] = typeof value === "number" ? formatNumber(value, 1) : value;
  return t(key, shown);
}

function drawPauses() {
  $("pauses").replaceChildren(...state.pauses.map((p) => element("tr", {},
    ...[named("operator.reason", p.reason), named("operator.source", p.source), time(p.started_at), time(p.ended_at)]
      .map((text) => cell(text)))));
}

async function refresh() {
  show(await api("GET", "/api/me"));
  state.pauses = await api("GET", `/api/operators/${state.me.id}/pauses`);
  drawPauses();
}

// --- The call in front of the operator: polled twice a second, its timer ticking every second.
const desk = { call: null, state: "none", skew: 0, formFor: null, polling: false };

/** Seconds as m:ss (h:mm:ss from an hour). */
function clock(seconds) { return formatDuration(Math.floor(Math.max(0, seconds))); }

/** A language's name in the page's language ("ru" reads "русский" on a Russian page). */
function languageName(code) {
  try { return new Intl.DisplayNames([i18n.language], { type: "language" }).of(code) || code; } catch (_) { return code; }
}

function tick() {
  const c = desk.call;
  if (!c) { $("call-timer").textContent = ""; return; }
  const now = Date.now() + desk.skew;
  const from = c.answered_at || c.offered_at;
  const to = c.ended_at ? Date.parse(c.ended_at) : now;
  $("call-timer").textContent = clock((to - Date.parse(from)) / 1000);
}

function fill(id, items, make) { $(id).replaceChildren(...items.map(make)); }

function showCall(ctx) {
  state.ctx = ctx;
  desk.call = ctx.call; desk.state = ctx.state;
  desk.skew = Date.parse(ctx.server_time) - Date.now();
  $("call").dataset.state = ctx.state;
  $("escalate").disabled = ctx.state !== "talking";  // buttons only where they apply
  controls(ctx.state === "talking");
  $("call-state").textContent = named("operator.call", ctx.state);
  $("call-body").hidden = !ctx.call;
  tick();
  const c = ctx.call;
  if ((c ? c.record_id : null) !== desk.formFor) buildForm(c);
  if (!c) return;
  $("summary-state").textContent = c.summary_saved ? t("operator.summary.saved_mark") : "";
  $("call-topic").textContent = c.topic_name || t(c.fallback ? "operator.call.fallback" : "operator.call.no_topic");
  $("call-language").textContent = c.language ? t("operator.call.language", { language: languageName(c.language) }) : "";
  const facts = [];
  if (c.queue) facts.push([t("operator.fact.queue", { queue: c.queue })]);
  if (c.waited_seconds !== null) facts.push([t("operator.fact.waited", { time: clock(c.waited_seconds) })]);
  if (c.path) facts.push([t("operator.fact.menu", { path: c.path })]);
  if (c.priority) facts.push([t("operator.fact.priority", { priority: c.priority }), "alert"]);
  if (c.repeat_count && c.repeat_count > 1) facts.push([t("operator.fact.repeat", { n: c.repeat_count }), "alert"]);
  if (c.after_hours) facts.push([t("operator.fact.after_hours")]);
  if (c.overflowed) facts.push([t("operator.fact.overflowed")]);
  if (c.escalated) facts.push([t("operator.fact.escalated"), "alert"]);
  fill("call-facts", facts, ([text, className]) => element("span", { textContent: text, className: className || "" }));
  const g = c.guidance;
  $("guidance").hidden = !g;
  if (!g) return;
  $("g-example").hidden = !g.example;
  $("g-summary").textContent = g.summary;
  fill("g-steps", g.steps, (text) => element("li", { textContent: text }));
  fill("g-risk", g.risk_questions, (text) => element("li", { textContent: text }));
  fill("g-escalate", g.escalate_when, (text) => element("li", { textContent: text }));
  $("g-escalate-to").textContent = g.escalate_to ? t("operator.guidance.escalate_to", { queue: g.escalate_to }) : "";
  fill("g-referrals", g.referrals, (r) => element("li", { textContent: `${r.organisation}: ${r.number}` }));
}

// --- The summary: built once per call (the poll must not wipe what the operator typed).
function fieldInput(f) {
  const box = element("fieldset", { className: "field" },
    element("legend", { textContent: f.required ? `${f.name} *` : f.name }));
  Object.assign(box.dataset, { field: f.id, kind: f.kind });
  if (f.kind === "choice" || f.kind === "referral") {
    box.append(element("select", { name: f.id }, element("option", { value: "", textContent: "-" }),
      ...f.options.map((o) => element("option", { value: o.id, textContent: o.name }))));
  } else if (f.kind === "choices" || f.kind === "issues") {
    box.append(...f.options.map((o) => element("label", {},
      element("input", { type: "checkbox", name: f.id, value: o.id }), ` ${o.name}`)));
  } else if (f.kind === "flag") {
    box.append(element("label", {}, element("input", { type: "checkbox", name: f.id }), ` ${t("operator.summary.yes")}`));
  } else {
    box.append(element("textarea", { name: f.id, rows: 2, maxLength: desk.call.form.text_max,
      placeholder: t("operator.summary.text_placeholder") }));
  }
  return box;
}

function buildForm(call) {
  desk.formFor = call ? call.record_id : null;
  const form = call && call.form;
  $("summary").hidden = !form;
  if (!form) return;
  $("summary-fields").replaceChildren(...form.fields.map(fieldInput));
}

function formValues() {
  const values = {};
  for (const box of $("summary-fields").querySelectorAll("fieldset")) {
    const { field, kind } = box.dataset;
    if (kind === "choice" || kind === "referral") values[field] = box.querySelector("select").value || null;
    else if (kind === "choices" || kind === "issues") {
      values[field] = [...box.querySelectorAll("input:checked")].map((i) => i.value);
    } else if (kind === "flag") values[field] = box.querySelector("input").checked;
    else values[field] = box.querySelector("textarea").value.trim() || null;
  }
  return values;
}

async function saveSummary(ev) {
  ev.preventDefault();
  if (!desk.call) return;
  const id = desk.call.record_id, values = formValues();
  // A call's record reaches the database a moment after it ends (or after the database is back):
  // until then the summary waits here and is sent again, the operator told so.
  for (let tries = 0; ; tries += 1) {
    try {
      await api("PUT", `/api/calls/${id}/summary`, { values });
      say(t("operator.summary.saved"), true);
      $("summary-state").textContent = t("operator.summary.saved_mark");
      await followCall();
      return;
    } catch (err) {
      if (err.error_id !== "call_not_found" || tries >= 30) { fail(err); return; }
      say(t("operator.summary.waiting"), true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function searchReferrals(ev) {
  ev.preventDefault();
  const params = new URLSearchParams();
  const q = $("ref-q").value.trim();
  if (q) params.set("q", q);
  if ($("ref-topic").checked && desk.call && desk.call.topic) params.set("topic", desk.call.topic);
  if ($("ref-open").checked) params.set("open_now", "true");
  try {
    const found = await api("GET", `/api/referrals?${params}`);
    fill("ref-results", found, (r) => element("li", { className: r.open_now ? "" : "closed" },
      `${r.organisation}: ${r.number}${r.region ? ` (${r.region})` : ""}${r.open_now ? "" : ` - ${t("operator.referral.closed_now")}`} `,
      element("button", { type: "button", textContent: t("operator.referral.given"), onclick: () => referralGiven(r.id) })));
    if (!found.length) $("ref-results").replaceChildren(element("li", { textContent: t("operator.referral.none") }));
  } catch (err) { fail(err); }
}

function referralGiven(id) {
  const box = $("summary-fields").querySelector('fieldset[data-kind="referral"] select');
  if (box) { box.value = id; say(t("operator.referral.noted"), true); }
}

// --- Acting on the call: transfers and conferences to a partner line, the emergency line.
async function loadTargets() {
  const chosen = $("ctl-target").value;
  const found = await api("GET", "/api/referrals");
  $("ctl-target").replaceChildren(...found.map((r) => element("option", { value: r.id,
    textContent: r.open_now ? r.organisation : t("operator.referral.target_closed", { organisation: r.organisation }) })));
  if (chosen) $("ctl-target").value = chosen;
}

async function control(path, body, done) {
  try {
    await api("POST", `/api/operators/${state.me.id}/${path}`, body);
    say(done, true);
    await followCall();
  } catch (err) { fail(err); }
}

function controls(talking) {
  for (const id of ["ctl-warm", "ctl-blind", "ctl-conference", "ctl-leave", "ctl-emergency"]) $(id).disabled = !talking;
  $("ctl-target").disabled = !talking;
}

$("ctl-warm").addEventListener("click", () => control("transfer", { mode: "warm", to: { referral: $("ctl-target").value } },
  t("operator.control.warm_done")));
$("ctl-blind").addEventListener("click", () => control("transfer", { mode: "blind", to: { referral: $("ctl-target").value } },
  t("operator.control.blind_done")));
$("ctl-conference").addEventListener("click", () => control("conference", { referral: $("ctl-target").value },
  t("operator.control.conference_done")));
$("ctl-leave").addEventListener("click", () => control("leave", undefined, t("operator.control.leave_done")));
$("ctl-emergency").addEventListener("click", () => {
  if (window.confirm(t("operator.control.emergency_confirm"))) {
    control("emergency", undefined, t("operator.control.emergency_done"));
  }
});

async function followCall() {
  if (!state.me) return;
  showCall(await api("GET", `/api/operators/${state.me.id}/call?lang=${encodeURIComponent(i18n.language)}`));
}

/** Polls the call: every 300 ms while waiting for an offer (it shows within a second of
 * Asterisk's), every second while talking (the timer ticks here meanwhile). */
function follow() {
  followCall().catch(fail).finally(() => setTimeout(follow, desk.state === "talking" ? 1000 : 300));
}

async function act(path, body, done) {
  try { show(await api("POST", `/api/operators/${state.me.id}/${path}`, body)); say(done, true); await refresh(); }
  catch (err) { fail(err); }
}

async function open() {
  try {
    await refresh();
    const phone = await api("GET", "/api/me/softphone");
    $("sp-server").textContent = phone.server; $("sp-port").textContent = phone.port;
    $("sp-user").textContent = phone.username; $("sp-realm").textContent = phone.realm;
    signedIn();
    await followCall();
    await loadTargets();
    if (desk.polling) return; // signed in again on this page: the polls run already
    desk.polling = true;
    setInterval(() => { if (session.who) refresh().catch(fail); }, 2000);
    follow();
    setInterval(tick, 1000);
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    fail(err); $("desk").hidden = true;
  }
}

$("summary").addEventListener("submit", saveSummary);
$("referral-search").addEventListener("submit", searchReferrals);
$("login").addEventListener("click", () => act("login", undefined, t("operator.presence.login_done")));
$("logout").addEventListener("click", () => act("logout", undefined, t("operator.presence.logout_done")));
$("pause").addEventListener("click", () => act("pause", { reason: $("reason").value }, t("operator.presence.pause_done")));
$("resume").addEventListener("click", () => act("resume", undefined, t("operator.presence.resume_done")));
$("escalate").addEventListener("click", () => act("escalate", undefined, t("operator.presence.escalate_done")));
onLanguage(() => {
  if (!state.me) return;
  show(state.me);
  drawPauses();
  if (state.ctx) showCall(state.ctx);
  followCall().catch(fail); // the topic's name and guidance in the new language
  loadTargets().catch(fail);
});
signIn({ app: "desk", start: open, onSignOut: () => { state.me = null; } });
