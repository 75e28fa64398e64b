"use strict";
// The operator's own page: state, presence, escalation, pause history. Talks to /api with the
// operator's token (kept in this tab's sessionStorage only); no external assets.
const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("hotline-token") || "", me: null };
const STATUS = { logged_out: "logged out", available: "available", ringing: "ringing", on_call: "on a call",
  wrap_up: "wrap-up", paused: "paused", unreachable: "softphone not registered" };

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.message || res.statusText), { data, status: res.status });
  return data;
}

function say(text, ok) { $("message").textContent = text; $("message").className = ok ? "ok" : "bad"; }

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
  $("notices").replaceChildren(...s.notices.map((n) => Object.assign(document.createElement("li"), {
    textContent: n.until ? `${n.message} (until ${time(n.until)})` : n.message, className: n.rule })));
}

async function refresh() {
  show(await api("GET", "/api/me"));
  const pauses = await api("GET", `/api/operators/${state.me.id}/pauses`);
  $("pauses").replaceChildren(...pauses.map((p) => {
    const row = document.createElement("tr");
    for (const text of [p.reason.replaceAll("_", " "), p.source.replace("_", " "), time(p.started_at), time(p.ended_at)]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    return row;
  }));
}

async function act(path, body, done) {
  try { show(await api("POST", `/api/operators/${state.me.id}/${path}`, body)); say(done, true); await refresh(); }
  catch (err) { say(err.message, false); }
}

async function open() {
  try {
    await refresh();
    const phone = await api("GET", "/api/me/softphone");
    $("sp-server").textContent = phone.server; $("sp-port").textContent = phone.port;
    $("sp-user").textContent = phone.username; $("sp-realm").textContent = phone.realm;
    $("login-box").hidden = true; $("desk").hidden = false;
    setInterval(() => refresh().catch((err) => say(err.message, false)), 2000);
  } catch (err) { say(err.message, false); $("desk").hidden = true; }
}

$("enter").addEventListener("click", () => {
  state.token = $("token").value.trim();
  sessionStorage.setItem("hotline-token", state.token);
  open();
});
$("login").addEventListener("click", () => act("login", undefined, "You are logged in."));
$("logout").addEventListener("click", () => act("logout", undefined, "You are logged out."));
$("pause").addEventListener("click", () => act("pause", { reason: $("reason").value }, "Paused."));
$("resume").addEventListener("click", () => act("resume", undefined, "Back on the line."));
$("escalate").addEventListener("click", () => act("escalate", undefined, "The caller goes to a senior, first in line."));
if (state.token) open();
