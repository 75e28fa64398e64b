"use strict";
// Hotline wallboard: one Server-Sent Events stream (read with fetch, in the session's cookie),
// redrawn on every snapshot; waits tick locally between snapshots. A shift lead or an admin signs
// in; a TV paired from an admin's link (/wallboard#pair=<code>) shows it as a kiosk, read only.
// The fetch wrapper, the sign-in, the DOM helpers and say() come from common.js; every word from
// i18n-wallboard.js (t()), numbers, times and durations in the page's language, redrawn when the
// language changes.
const state = { snapshot: null, received: 0, abort: null, planning: null, pairing: "", link: "wallboard.link.none", topics: [] };
window.wallboardLog = []; // [{at: ms, queues: {queue: waiting}}]: when each snapshot was drawn

const pct = (x) => formatPercent(x);
function duration(s) { return formatDuration(Math.floor(Math.max(0, s))); }
/** The words of a key's family for a code the server sends (the code itself when it is new). */
function named(family, code) {
  return hasText(`${family}.${code}`) ? t(`${family}.${code}`) : String(code).replaceAll("_", " ");
}
const clockTime = (iso) => formatDateTime(iso, undefined, { timeStyle: "medium" });

/** A queue by the names of the topics it answers, in the page's language from the live IVR
 * (GET /api/topics, as the reports and planning pages name it); its id when no topic leads to it,
 * or for a kiosk, which may not read the topics. */
function queueName(id) {
  const names = state.topics.filter((x) => x.queue === id)
    .map((x) => x.names[i18n.language] || x.names.en || Object.values(x.names)[0] || x.id);
  return names.length ? names.join(", ") : id;
}

async function loadTopics() {
  if (!session.who) return;
  state.topics = await api("GET", "/api/topics").catch(() => []);
  if (state.snapshot) drawAlerts(state.snapshot);
  draw();
}
function link(live, key) {
  state.link = key;
  const el = $("link"); el.textContent = t(key); el.classList.toggle("live", live);
}

function elapsed() { return (Date.now() - state.received) / 1000; }

/** A figure judged against its queue's bound: the colour, a sign (wallboard.css's .cue-*) and the
 * verdict in words as its title, so that the colour is never the only cue (issue 19, item 6). */
function judged(text, verdict, cue, words) {
  const td = cell(text, `${verdict} cue-${cue}`);
  td.title = words;
  return td;
}

function waitCell(q, wait) {
  if (!q.waiting || wait <= q.threshold_seconds) return cell(q.waiting ? duration(wait) : "–", "wait");
  return judged(duration(wait), "wait bad", "over", t("wallboard.cue.over", { threshold: duration(q.threshold_seconds) }));
}

/** The callers waiting, and on a line of several Asterisk nodes how many wait on each
 * (issue 22: the snapshot's waiting_by_node; one node: the figure alone). */
function waitingCell(q) {
  const td = cell(formatNumber(q.waiting), "big waiting");
  const nodes = Object.entries(q.waiting_by_node || {}).sort(([a], [b]) => a.localeCompare(b));
  if (nodes.length > 1) {
    const text = nodes.map(([node, n]) => `${node} ${formatNumber(n)}`).join(" · ");
    td.append(element("small", { className: "by-node", title: t("wallboard.by_node"), textContent: text }));
  }
  return td;
}

function levelCell(q) {
  const level = q.service_level_24h;
  if (level === null) return cell(pct(level));
  const target = { target: pct(q.target) };
  if (level < q.target) return judged(pct(level), "bad", "below", t("wallboard.cue.below", target));
  return judged(pct(level), "good", "met", t("wallboard.cue.met", target));
}

function drawQueues(s) {
  const alertsOf = new Set(s.alerts.map((a) => `${a.queue}:${a.kind}`));
  const rows = s.queues.map((q) => {
    const tr = element("tr");
    tr.dataset.queue = q.queue;
    const wait = q.waiting ? q.longest_wait_seconds + elapsed() : 0;
    tr.append(
      cell(queueName(q.queue)),
      waitingCell(q),
      waitCell(q, wait),
      levelCell(q),
      cell(pct(q.service_level_today)),
      cell([q.offered_today, q.answered_today, q.abandoned_today].map((n) => formatNumber(n)).join(" / ")),
    );
    const ops = cell("", `states${alertsOf.has(`${q.queue}:unstaffed`) ? " bad" : ""}`);
    const states = Object.entries(q.operators);
    if (!states.length) ops.textContent = t("wallboard.nobody");
    for (const [name, n] of states) ops.append(element("span", { textContent: `${named("wallboard.status", name)} ${formatNumber(n)}` }));
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
  return found ? formatNumber(found.required_positions) : "–";
}

// --- Operators, with what a shift lead can do to each (issue 17, item 4) ----------------------
// A row is kept while its operator's state, queues and moves stay the same, so a button or a
// select is not replaced under the lead's hand by the redraw every second.
const rows = new Map(); // operator -> {tr, key}

function drawOperators(s) {
  const queues = s.queues.map((q) => q.queue);
  const shown = s.operators.map((o) => {
    const key = JSON.stringify([o.status, o.queues, o.moved || {}, queues, i18n.language]);
    let row = rows.get(o.operator);
    if (!row || row.key !== key) {
      row = { tr: element("tr"), key };
      row.tr.dataset.operator = o.operator;
      row.tr.append(cell(o.operator), cell(""), cell("", "since"), cell(""), actionsCell(o, queues));
      rows.set(o.operator, row);
    }
    const [, status, since, member] = row.tr.cells;
    const word = named("wallboard.status", o.status);
    status.textContent = o.paused_reason ? `${word} (${named("wallboard.reason", o.paused_reason)})` : word;
    since.textContent = duration(o.seconds_in_state + elapsed());
    const moved = Object.entries(o.moved || {}).map(([q, how]) => `${how === "in" ? "+" : "−"}${q}`);
    member.textContent = moved.length ? t("wallboard.moved", { queues: o.queues.join(", "), moves: moved.join(" ") }) : o.queues.join(", ");
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
  const who = { operator: o.operator };
  const pause = button(t("wallboard.act.pause"), "pause",
    () => act(`operators/${o.operator}/pause`, { reason: $("lead-reason").value }, t("wallboard.act.paused", who)));
  const resume = button(t("wallboard.act.resume"), "resume",
    () => act(`operators/${o.operator}/resume`, undefined, t("wallboard.act.resumed", who)));
  pause.disabled = paused; resume.disabled = !paused;
  const out = button(t("wallboard.act.logout"), "logout", () => {
    if (window.confirm(t("wallboard.act.logout_confirm", who))) act(`operators/${o.operator}/logout`, undefined, t("wallboard.act.logged_out", who));
  });
  const listen = button(t("wallboard.act.listen"), "listen", () => startListen(o.operator));
  listen.disabled = o.status !== "on_call";
  const move = element("select", { className: "move", title: t("wallboard.act.move_title") },
    element("option", { value: "", textContent: t("wallboard.act.move") }),
    ...queues.filter((q) => !o.queues.includes(q)).map((q) => element("option", { value: `in:${q}`, textContent: t("wallboard.act.into", { queue: q }) })),
    ...o.queues.map((q) => element("option", { value: `out:${q}`, textContent: t("wallboard.act.out_of", { queue: q }) })));
  move.setAttribute("aria-label", t("wallboard.act.move_label", who));  // a name, not only a title
  move.addEventListener("change", () => {
    const [how, queue] = move.value.split(":");
    if (!queue) return;
    const done = t(how === "in" ? "wallboard.act.moved_in" : "wallboard.act.moved_out", { operator: o.operator, queue });
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
    say(t("wallboard.act.listening", { operator }), true);
  } catch (err) {
    if (err.status === 404 && err.error_id === "not_found") say(t("wallboard.act.no_listen"), false);
    else fail(err);
  }
  loadActions();
}

// --- Alerts, ranked by the server, each acknowledged once by a lead ----------------------------
/** An alert in the page's language, from its kind and the snapshot's figures (the server's own
 * English words for a kind this page does not know). */
function alertText(a, s) {
  const q = s.queues.find((x) => x.queue === a.queue) || {};
  if (a.kind === "service_level" && q.queue) {
    return t("wallboard.alert.service_level", { level: pct(q.service_level_24h), target: pct(q.target) });
  }
  if (a.kind === "wait" && q.queue) {
    const times = { wait: duration(q.longest_wait_seconds), threshold: duration(q.threshold_seconds) };
    return t(a.crisis ? "wallboard.alert.wait_crisis" : "wallboard.alert.wait", times);
  }
  if (a.kind === "unstaffed" && q.queue) {
    return q.waiting ? t("wallboard.alert.unstaffed_waiting", { n: q.waiting }) : t("wallboard.alert.unstaffed");
  }
  if (a.kind === "emergency" && a.operator) {
    const asked = a.by && a.by !== a.operator;
    return t(asked ? "wallboard.alert.emergency_asked" : "wallboard.alert.emergency", { operator: a.operator, by: a.by });
  }
  if (a.kind === "records" && s.records) {
    return t("wallboard.alert.records", { n: s.records.pending, wait: duration(s.records.oldest_pending_seconds) });
  }
  return a.message;
}

function drawAlerts(s) {
  $("alerts").replaceChildren(...s.alerts.map((a) => {
    const text = alertText(a, s);
    const li = element("li", { textContent: a.queue ? `${queueName(a.queue)}: ${text}` : text, className: a.acknowledged ? "bad acked" : "bad" });
    li.dataset.id = a.id; li.dataset.rank = a.rank;
    if (a.acknowledged) {
      const words = t("wallboard.alert.acknowledged", { who: a.acknowledged.by, time: clockTime(a.acknowledged.at) });
      li.append(element("span", { className: "ack", textContent: ` ${words}` }));
    } else {
      const b = element("button", { type: "button", textContent: t("wallboard.alert.acknowledge"), className: "ack" });
      b.addEventListener("click", () => act(`alerts/${encodeURIComponent(a.id)}/acknowledge`, undefined, t("wallboard.alert.acknowledged_now")));
      li.append(" ", b);
    }
    return li;
  }));
}

// --- Debrief requests (issue 17, item 3): started and closed from here -------------------------
let debriefsKey = "";
function drawDebriefs(s) {
  const list = s.debriefs || [];
  const key = JSON.stringify([list, i18n.language]);
  if (key === debriefsKey) return; // keeps an outcome being typed
  debriefsKey = key;
  $("debriefs-none").hidden = list.length > 0;
  $("debriefs").tBodies[0].replaceChildren(...list.map((d) => {
    const tr = element("tr");
    tr.dataset.id = d.id;
    const who = { operator: d.operator };
    const outcome = element("input", { className: "outcome", maxLength: 200, placeholder: t("wallboard.debrief.outcome") });
    const start = element("button", { type: "button", textContent: t("wallboard.debrief.start"), className: "start", disabled: d.state !== "open" });
    start.addEventListener("click", () => debriefAct(d, "start", undefined, t("wallboard.debrief.started", who)));
    const close = element("button", { type: "button", textContent: t("wallboard.debrief.close"), className: "close" });
    close.addEventListener("click", () => debriefAct(d, "close", { outcome: outcome.value.trim() || null }, t("wallboard.debrief.closed", who)));
    const how = d.state === "started"
      ? t(d.paused ? "wallboard.debrief.started_by_paused" : "wallboard.debrief.started_by", { who: d.started_by })
      : t(d.suggested ? "wallboard.debrief.open_suggested" : "wallboard.debrief.open");
    tr.append(cell(d.operator), cell(clockTime(d.requested_at)), cell(d.record_id ? t("wallboard.debrief.yes") : "–"),
      cell(d.note || ""), cell(how, "state"));
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
    state.actions = lines;
    drawActions();
  } catch (_) { /* the record shows again at the next load */ }
}

function drawActions() {
  $("actions").tBodies[0].replaceChildren(...(state.actions || []).map((r) => element("tr", {},
    cell(clockTime(r.at)), cell(r.by), cell(named("wallboard.action", r.action)),
    cell(r.operator || ""), cell(hasText(`wallboard.reason.${r.target}`) ? t(`wallboard.reason.${r.target}`) : r.target || ""),
    cell(named("wallboard.result", r.result), r.result === "ok" ? "good" : "bad"))));
}

function draw() {
  const s = state.snapshot;
  if (!s) return;
  drawQueues(s);
  drawOperators(s);
  $("clock").textContent = clockTime(s.at);
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
  link(true, "wallboard.link.live");
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
      link(false, "wallboard.link.again");
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

setInterval(draw, 1000);
// --- A kiosk: a TV paired from an admin's link, reading the board only ------------------------

/** Trades the link's pairing code (/wallboard#pair=<code>) for the kiosk's long-lived cookie,
 * then takes the code out of the address bar and the history. */
async function pairFromLink() {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("pair");
  if (!code) return;
  try {
    await api("POST", "/api/kiosks/pair", { code });
  } catch (err) {
    state.pairing = err.error_id === "kiosk_pairing_failed" ? t("wallboard.pair_failed") : describe(err);
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

setInterval(() => { if (isSignedIn()) { loadPlanning(); loadTopics(); } }, 60000);
setInterval(() => { if (isSignedIn()) loadActions(); }, 10000);
onLanguage(() => {
  $("link").textContent = t(state.link);
  if (state.snapshot) { drawAlerts(state.snapshot); drawDebriefs(state.snapshot); }
  draw();
  drawActions();
});
pairFromLink().then(() => {
  signIn({
    start: () => { run(); loadPlanning(); loadActions(); loadTopics(); },
    onSignOut: () => { if (state.abort) state.abort.abort(); link(false, "wallboard.link.none"); },
    kiosk: isKiosk,
  });
  if (state.pairing) signInNote(state.pairing);
});
