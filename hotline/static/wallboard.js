"use strict";
// Hotline wallboard: one Server-Sent Events stream (read with fetch, in the session's cookie),
// redrawn on every snapshot; waits tick locally between snapshots. A shift lead or an admin signs
// in; a TV paired from an admin's link (/wallboard#pair=<code>) shows it as a kiosk, read only.
// The fetch wrapper, the sign-in, the DOM helpers and say() come from common.js.
const state = { snapshot: null, received: 0, abort: null, planning: null, pairing: "" };
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

// --- Operators, with what a shift lead can do to each (issue 17, item 4) ----------------------
// A row is kept while its operator's state, queues and moves stay the same, so a button or a
// select is not replaced under the lead's hand by the redraw every second.
const rows = new Map(); // operator -> {tr, key}

function drawOperators(s) {
  const queues = s.queues.map((q) => q.queue);
  const shown = s.operators.map((o) => {
    const key = JSON.stringify([o.status, o.queues, o.moved || {}, queues]);
    let row = rows.get(o.operator);
    if (!row || row.key !== key) {
      row = { tr: element("tr"), key };
      row.tr.dataset.operator = o.operator;
      row.tr.append(cell(o.operator), cell(""), cell("", "since"), cell(""), actionsCell(o, queues));
      rows.set(o.operator, row);
    }
    const [, status, since, member] = row.tr.cells;
    status.textContent = o.paused_reason ? `${o.status.replace("_", " ")} (${o.paused_reason})` : o.status.replace("_", " ");
    since.textContent = duration(o.seconds_in_state + elapsed());
    const moved = Object.entries(o.moved || {}).map(([q, how]) => `${how === "in" ? "+" : "−"}${q}`);
    member.textContent = o.queues.join(", ") + (moved.length ? ` (moved: ${moved.join(" ")})` : "");
    return row.tr;
  });
  for (const name of [...rows.keys()]) if (!s.operators.some((o) => o.operator === name)) rows.delete(name);
  const body = $("operators").tBodies[0];
  if (shown.length !== body.rows.length || shown.some((tr, i) => body.rows[i] !== tr)) body.replaceChildren(...shown);
}

function actionsCell(o, queues) {
  const td = element("td", { className: "act" });
  const button = (text, cls, run) => {
    const b = element("button", { type: "button", textContent: text, className: cls });
    b.addEventListener("click", run);
    return b;
  };
  const paused = o.status === "paused";
  const pause = button("Pause", "pause", () => act(`operators/${o.operator}/pause`, { reason: $("lead-reason").value }, `${o.operator} paused.`));
  const resume = button("Resume", "resume", () => act(`operators/${o.operator}/resume`, undefined, `${o.operator} is back on the line.`));
  pause.disabled = paused; resume.disabled = !paused;
  const out = button("Log out", "logout", () => {
    if (window.confirm(`Log ${o.operator} out of every queue?`)) act(`operators/${o.operator}/logout`, undefined, `${o.operator} logged out.`);
  });
  const listen = button("Listen", "listen", () => startListen(o.operator));
  listen.disabled = o.status !== "on_call";
  const move = element("select", { className: "move", title: "for the rest of the shift" },
    element("option", { value: "", textContent: "Move…" }),
    ...queues.filter((q) => !o.queues.includes(q)).map((q) => element("option", { value: `in:${q}`, textContent: `into ${q}` })),
    ...o.queues.map((q) => element("option", { value: `out:${q}`, textContent: `out of ${q}` })));
  move.addEventListener("change", () => {
    const [how, queue] = move.value.split(":");
    if (!queue) return;
    const done = how === "in" ? `${o.operator} moved into ${queue} until they log out.` : `${o.operator} moved out of ${queue} until they log out.`;
    move.value = "";
    act(`operators/${o.operator}/queues/${encodeURIComponent(queue)}`, undefined, done, how === "in" ? "PUT" : "DELETE");
  });
  td.append(pause, resume, out, move, listen);
  return td;
}

/** One of the lead's actions: its answer in the message area, then the record reloaded. */
async function act(path, body, done, method = "POST") {
  try {
    await api(method, `/api/wallboard/${path}`, body);
    say(done, true);
  } catch (err) { fail(err); }
  loadActions();
}

/** A listen (issue 17, item 1): the supervision service calls the lead's own softphone. */
async function startListen(operator) {
  try {
    await api("POST", "/api/supervision", { operator, mode: "listen" });
    say(`Listening to ${operator}: your softphone rings.`, true);
  } catch (err) {
    if (err.status === 404 && err.error_id === "not_found") say("Listening is not available on this server yet.", false);
    else fail(err);
  }
  loadActions();
}

// --- Alerts, ranked by the server, each acknowledged once by a lead ----------------------------
function drawAlerts(s) {
  // An alert (not an API error) carries its own message.
  $("alerts").replaceChildren(...s.alerts.map((a) => {
    const li = element("li", { textContent: a.queue ? `${a.queue}: ${a.message}` : a.message, className: a.acknowledged ? "bad acked" : "bad" });
    li.dataset.id = a.id; li.dataset.rank = a.rank;
    if (a.acknowledged) li.append(element("span", { className: "ack", textContent: ` acknowledged by ${a.acknowledged.by} at ${new Date(Date.parse(a.acknowledged.at)).toLocaleTimeString()}` }));
    else {
      const b = element("button", { type: "button", textContent: "Acknowledge", className: "ack" });
      b.addEventListener("click", () => act(`alerts/${encodeURIComponent(a.id)}/acknowledge`, undefined, "Alert acknowledged."));
      li.append(" ", b);
    }
    return li;
  }));
}

// --- Debrief requests (issue 17, item 3): started and closed from here -------------------------
let debriefsKey = "";
function drawDebriefs(s) {
  const list = s.debriefs || [];
  const key = JSON.stringify(list);
  if (key === debriefsKey) return; // keeps an outcome being typed
  debriefsKey = key;
  $("debriefs-none").hidden = list.length > 0;
  $("debriefs").tBodies[0].replaceChildren(...list.map((d) => {
    const tr = element("tr");
    tr.dataset.id = d.id;
    const outcome = element("input", { className: "outcome", maxLength: 200, placeholder: "outcome (no personal data)" });
    const start = element("button", { type: "button", textContent: "Start", className: "start", disabled: d.state !== "open" });
    start.addEventListener("click", () => debriefAct(d, "start", undefined, `Debrief with ${d.operator} started: paused for a debrief.`));
    const close = element("button", { type: "button", textContent: "Close", className: "close" });
    close.addEventListener("click", () => debriefAct(d, "close", { outcome: outcome.value.trim() || null }, `Debrief with ${d.operator} closed.`));
    const when = new Date(Date.parse(d.requested_at)).toLocaleTimeString();
    const how = d.state === "started" ? `started by ${d.started_by}${d.paused ? " (paused)" : ""}` : d.suggested ? "open (the guard suggested it)" : "open";
    tr.append(cell(d.operator), cell(when), cell(d.record_id ? "yes" : "–"), cell(d.note || ""), cell(how, "state"));
    const actions = element("td", { className: "act" }, outcome, start, close);
    tr.append(actions);
    return tr;
  }));
}

async function debriefAct(d, verb, body, done) {
  try {
    await api("POST", `/api/debriefs/${d.id}/${verb}`, body);
    say(done, true);
  } catch (err) { fail(err); }
  loadActions();
}

// --- The record of the leads' actions ----------------------------------------------------------
async function loadActions() {
  try {
    const lines = await api("GET", "/api/wallboard/actions?limit=15");
    $("actions").tBodies[0].replaceChildren(...lines.map((r) => element("tr", {},
      cell(new Date(Date.parse(r.at)).toLocaleTimeString()), cell(r.by), cell(r.action.replace("_", " ")),
      cell(r.operator || ""), cell(r.target || ""), cell(r.result, r.result === "ok" ? "good" : "bad"))));
  } catch (_) { /* the record shows again at the next load */ }
}

function draw() {
  const s = state.snapshot;
  if (!s) return;
  drawQueues(s);
  drawOperators(s);
  $("clock").textContent = new Date(Date.parse(s.at)).toLocaleTimeString();
}

function accept(snapshot) {
  state.snapshot = snapshot;
  state.received = Date.now();
  drawAlerts(snapshot);
  drawDebriefs(snapshot);
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
  while (isSignedIn()) {
    try {
      await stream();
    } catch (err) {
      if (refused(err)) { turnedAway(err); return; }
      if (err.name === "AbortError") return;
      link(false, "reconnecting…");
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

setInterval(draw, 1000);
// --- A kiosk: a TV paired from an admin's link, reading the board only ------------------------

/** Every sentence the kiosk's part shows, in one place for a translation catalogue (issue 19). */
const WALL_TEXT = {
  pairFailed: "This pairing link is unknown, used or expired: ask an admin for a new one.",
};

/** Trades the link's pairing code (/wallboard#pair=<code>) for the kiosk's long-lived cookie,
 * then takes the code out of the address bar and the history. */
async function pairFromLink() {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("pair");
  if (!code) return;
  try {
    await api("POST", "/api/kiosks/pair", { code });
  } catch (err) {
    state.pairing = err.error_id === "kiosk_pairing_failed" ? WALL_TEXT.pairFailed : describe(err);
  } finally {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
}

/** Whether this browser is a kiosk: nobody is signed in (GET /api/session refused), yet the
 * wallboard answers. A kiosk's session reads the wallboard and nothing else. */
async function isKiosk() {
  await api("GET", "/api/wallboard");
  return true;
}

setInterval(() => { if (isSignedIn()) loadPlanning(); }, 60000);
setInterval(() => { if (isSignedIn()) loadActions(); }, 10000);
pairFromLink().then(() => {
  signIn({
    start: () => { run(); loadPlanning(); loadActions(); },
    onSignOut: () => { if (state.abort) state.abort.abort(); link(false, "not connected"); },
    kiosk: isKiosk,
  });
  if (state.pairing) signInNote(state.pairing);
});
