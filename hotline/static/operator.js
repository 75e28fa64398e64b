"use strict";
// The operator's own page: state, presence, escalation, pause history. Talks to /api with the
// operator's token (kept in this tab only); no external assets. The fetch wrapper, the sign-in,
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
    setInterval(() => refresh().catch(fail), 2000);
  } catch (err) {
    if (refused(err)) { signOut(); say("That token was refused.", false); return; }
    fail(err); $("desk").hidden = true;
  }
}

$("login").addEventListener("click", () => act("login", undefined, "You are logged in."));
$("logout").addEventListener("click", () => act("logout", undefined, "You are logged out."));
$("pause").addEventListener("click", () => act("pause", { reason: $("reason").value }, "Paused."));
$("resume").addEventListener("click", () => act("resume", undefined, "Back on the line."));
$("escalate").addEventListener("click", () => act("escalate", undefined, "The caller goes to a senior, first in line."));
signIn({ button: "enter", app: "desk", login: "login-box", start: open });
