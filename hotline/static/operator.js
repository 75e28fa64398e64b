"use strict";
// The operator's own page: state, presence, escalation, pause history. Talks to /api in the
// operator's session (common.js's sign-in); no external assets. The fetch wrapper, the sign-in,
// the DOM helpers and say() come from common.js.
const state = { me: null };
const STATUS = { logged_out: "logged out", available: "available", ringing: "ringing", on_call: "on a call",
  wrap_up: "wrap-up", paused: "paused", unreachable: "softphone not registered" };

function time(value) { return value ? new Date(value).toLocaleTimeString() : ""; }

function show(me) {
  state.me = me;
  const s = me.state;
  $("who").textContent = `${me.display_name} (${me.id})`;
  $("op-status").textContent = STATUS[s.status] || s.status;
  $("op-status").dataset.status = s.status;
  $("op-reason").textContent = s.paused_reason ? `(${s.paused_reason.replaceAll("_", " ")})` : "";
  $("op-since").textContent = s.since ? `since ${time(s.since)}` : "";
  $("op-queues").textContent = s.queues.join(", ") || "none";
  $("op-calls").textContent = s.calls_taken;
  // A guard's notice (not an API error) carries its own message.
  $("notices").replaceChildren(...s.notices.map((n) => element("li", {
    textContent: n.until ? `${n.message} (until ${time(n.until)})` : n.message, className: n.rule })));
}

async function refresh() {
  show(await api("GET", "/api/me"));
  const pauses = await api("GET", `/api/operators/${state.me.id}/pauses`);
  $("pauses").replaceChildren(...pauses.map((p) => element("tr", {},
    ...[p.reason.replaceAll("_", " "), p.source.replace("_", " "), time(p.started_at), time(p.ended_at)].map((text) => cell(text)))));
}

// --- The call in front of the operator: polled twice a second, its timer ticking every second.
const CALL_STATE = { none: "No call", offered: "Ringing", talking: "On a call", ended: "Call ended: summary to save" };
const desk = { call: null, state: "none", skew: 0, formFor: null, polling: false };

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0"), ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
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
  desk.call = ctx.call; desk.state = ctx.state;
  desk.skew = Date.parse(ctx.server_time) - Date.now();
  $("call").dataset.state = ctx.state;
  $("escalate").disabled = ctx.state !== "talking";  // buttons only where they apply
  controls(ctx.state === "talking");
  $("call-state").textContent = CALL_STATE[ctx.state] || ctx.state;
  $("call-body").hidden = !ctx.call;
  tick();
  const c = ctx.call;
  if ((c ? c.record_id : null) !== desk.formFor) buildForm(c);
  if (!c) return;
  $("summary-state").textContent = c.summary_saved ? "(saved)" : "";
  $("call-topic").textContent = c.topic_name || (c.fallback ? "No topic (reached you by the fallback)" : "No topic");
  $("call-language").textContent = c.language ? `language: ${c.language}` : "";
  const facts = [];
  if (c.queue) facts.push([`queue ${c.queue}`]);
  if (c.waited_seconds !== null) facts.push([`waited ${clock(c.waited_seconds)}`]);
  if (c.path) facts.push([`menu ${c.path}`]);
  if (c.priority) facts.push([`priority ${c.priority}`, "alert"]);
  if (c.repeat_count && c.repeat_count > 1) facts.push([`call ${c.repeat_count} from this caller in the window`, "alert"]);
  if (c.after_hours) facts.push(["after hours"]);
  if (c.overflowed) facts.push(["overflowed"]);
  if (c.escalated) facts.push(["handed on by a colleague", "alert"]);
  fill("call-facts", facts, ([text, className]) => element("span", { textContent: text, className: className || "" }));
  const g = c.guidance;
  $("guidance").hidden = !g;
  if (!g) return;
  $("g-example").hidden = !g.example;
  $("g-summary").textContent = g.summary;
  fill("g-steps", g.steps, (t) => element("li", { textContent: t }));
  fill("g-risk", g.risk_questions, (t) => element("li", { textContent: t }));
  fill("g-escalate", g.escalate_when, (t) => element("li", { textContent: t }));
  $("g-escalate-to").textContent = g.escalate_to ? `to the queue ${g.escalate_to}` : "";
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
    box.append(element("label", {}, element("input", { type: "checkbox", name: f.id }), " yes"));
  } else {
    box.append(element("textarea", { name: f.id, rows: 2, maxLength: desk.call.form.text_max,
      placeholder: "No names, numbers, addresses" }));
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
      say("Summary saved.", true);
      $("summary-state").textContent = "(saved)";
      await followCall();
      return;
    } catch (err) {
      if (err.error_id !== "call_not_found" || tries >= 30) { fail(err); return; }
      say("The call is still being recorded: the summary is sent again in a moment.", true);
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
      `${r.organisation}: ${r.number}${r.region ? ` (${r.region})` : ""}${r.open_now ? "" : " - closed now"}`,
      element("button", { type: "button", textContent: "Given", onclick: () => referralGiven(r.id) })));
    if (!found.length) $("ref-results").replaceChildren(element("li", { textContent: "Nothing found." }));
  } catch (err) { fail(err); }
}

function referralGiven(id) {
  const box = $("summary-fields").querySelector('fieldset[data-kind="referral"] select');
  if (box) { box.value = id; say("Noted in the summary: save it when the call ends.", true); }
}

// --- Acting on the call: transfers and conferences to a partner line, the emergency line.
async function loadTargets() {
  const found = await api("GET", "/api/referrals");
  $("ctl-target").replaceChildren(...found.map((r) => element("option", { value: r.id,
    textContent: `${r.organisation}${r.open_now ? "" : " (closed now)"}` })));
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
  "The caller is on hold: talk to the partner, then leave the call to hand the caller over."));
$("ctl-blind").addEventListener("click", () => control("transfer", { mode: "blind", to: { referral: $("ctl-target").value } },
  "The caller is put through to the partner line."));
$("ctl-conference").addEventListener("click", () => control("conference", { referral: $("ctl-target").value },
  "The partner line is joining the call."));
$("ctl-leave").addEventListener("click", () => control("leave", undefined, "You left the call."));
$("ctl-emergency").addEventListener("click", () => {
  if (window.confirm("Bring the emergency line into this call now? The shift lead is alerted.")) {
    control("emergency", undefined, "The emergency line is joining the call; the shift lead is alerted.");
  }
});

async function followCall() {
  if (!state.me) return;
  showCall(await api("GET", `/api/operators/${state.me.id}/call?lang=${encodeURIComponent(pageLanguage())}`));
}

/** Polls the call: every 300 ms while waiting for an offer (it shows within a second of
 * Asterisk's), every second while talking (the timer ticks here meanwhile). */
function follow() {
  followCall().catch(fail).finally(() => setTimeout(follow, desk.state === "talking" ? 1000 : 300));
}

function pageLanguage() { return (navigator.language || "en").slice(0, 2).toLowerCase(); }

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
$("login").addEventListener("click", () => act("login", undefined, "You are logged in."));
$("logout").addEventListener("click", () => act("logout", undefined, "You are logged out."));
$("pause").addEventListener("click", () => act("pause", { reason: $("reason").value }, "Paused."));
$("resume").addEventListener("click", () => act("resume", undefined, "Back on the line."));
$("escalate").addEventListener("click", () => act("escalate", undefined, "The caller goes to a senior, first in line."));
signIn({ app: "desk", start: open, onSignOut: () => { state.me = null; } });
