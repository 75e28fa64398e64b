"use strict";
// Hotline wallboard: one Server-Sent Events stream (read with fetch, so the token travels in a
// header, never in a URL), redrawn on every snapshot; waits tick locally between snapshots.
// The fetch wrapper, the sign-in, the DOM helpers and say() come from common.js.
const state = { snapshot: null, received: 0, abort: null, planning: null };
window.wallboardLog = []; // [{at: ms, queues: {queue: waiting}}]: when each snapshot was drawn

const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
function duration(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}
function link(live, text) { const el = $("link"); el.textContent = text; el.classList.toggle("live", live); }

function elapsed() { return (Date.now() - state.received) / 1000; }

function drawQueues(s) {
  const alertsOf = new Set(s.alerts.map((a) => `${a.queue}:${a.kind}`));
  const rows = s.queues.map((q) => {
    const tr = element("tr");
    tr.dataset.queue = q.queue;
    const wait = q.waiting ? q.longest_wait_seconds + elapsed() : 0;
    tr.append(
      cell(q.queue),
      cell(String(q.waiting), "big waiting"),
      cell(q.waiting ? duration(wait) : "–", `wait${wait > q.threshold_seconds ? " bad" : ""}`),
      cell(pct(q.service_level_24h), q.service_level_24h === null ? "" : q.service_level_24h < q.target ? "bad" : "good"),
      cell(pct(q.service_level_today)),
      cell(`${q.offered_today} / ${q.answered_today} / ${q.abandoned_today}`),
    );
    const ops = cell("", `states${alertsOf.has(`${q.queue}:unstaffed`) ? " bad" : ""}`);
    const states = Object.entries(q.operators);
    if (!states.length) ops.textContent = "nobody logged in";
    for (const [name, n] of states) ops.append(element("span", { textContent: `${name.replace("_", " ")} ${n}` }));
    tr.append(ops);
    const plan = cell(planned(q.queue), "planning");
    plan.hidden = state.planning === null;
    tr.append(plan);
    return tr;
  });
  $("queues").tBodies[0].replaceChildren(...rows);
}

function planned(queue) {
  if (!state.planning) return "";
  const found = (state.planning.queues || []).find((q) => q.queue === queue);
  return found ? String(found.required_positions) : "–";
}

function drawOperators(s) {
  const rows = s.operators.map((o) => {
    const label = o.paused_reason ? `${o.status.replace("_", " ")} (${o.paused_reason})` : o.status.replace("_", " ");
    return element("tr", {}, cell(o.operator), cell(label), cell(duration(o.seconds_in_state + elapsed()), "since"), cell(o.queues.join(", ")));
  });
  $("operators").tBodies[0].replaceChildren(...rows);
}

function draw() {
  const s = state.snapshot;
  if (!s) return;
  // An alert (not an API error) carries its own message.
  $("alerts").replaceChildren(...s.alerts.map((a) => element("li", { textContent: a.queue ? `${a.queue}: ${a.message}` : a.message, className: "bad" })));
  drawQueues(s);
  drawOperators(s);
  $("clock").textContent = new Date(Date.parse(s.at)).toLocaleTimeString();
}

function accept(snapshot) {
  state.snapshot = snapshot;
  state.received = Date.now();
  draw();
  const queues = {};
  for (const q of snapshot.queues) queues[q.queue] = q.waiting;
  window.wallboardLog.push({ at: Date.now(), queues });
  if (window.wallboardLog.length > 500) window.wallboardLog.shift();
}

async function stream() {
  state.abort = new AbortController();
  const res = await request("GET", "/api/wallboard/stream", { signal: state.abort.signal });
  if (!res.body) throw new Error("stream: no body");
  signedIn();
  say("");
  link(true, "live");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stream ended");
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) accept(JSON.parse(data));
    }
  }
}

async function loadPlanning() {
  try {
    state.planning = await api("GET", "/api/planning/now");
  } catch (_) { state.planning = null; } // 404: no planning here, the column stays hidden
  for (const th of document.querySelectorAll("th.planning")) th.hidden = state.planning === null;
  draw();
}

async function run() {
  let delay = 1000;
  while (session.token) {
    try {
      await stream();
    } catch (err) {
      if (refused(err)) { signOut(); say("That token was refused."); return; }
      if (err.name === "AbortError") return;
      link(false, "reconnecting…");
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

setInterval(draw, 1000);
setInterval(() => { if (session.token) loadPlanning(); }, 60000);
signIn({
  form: "login", login: "login", logout: "logout",
  start: () => { run(); loadPlanning(); },
  onSignOut: () => { if (state.abort) state.abort.abort(); link(false, "not connected"); },
});
