"use strict";
// Hotline administration: the IVR (/api/ivr), machines' API tokens, kiosk wallboards, the audit
// log, and a link to the operators page (people); an admin's session, no external assets.
// The fetch wrapper, the sign-in, the DOM helpers and say() come from common.js; every word from
// i18n-admin.js (t()), times through i18n.js's formatDateTime, redrawn when the language changes.

function showIssues(issues) {
  $("issues").replaceChildren(...issues.map((i) => element("li", { textContent: i.message })));
}

/** An error: its listed problems under the draft, its words (or detail) in the message area. */
function showProblem(err) {
  const details = Array.isArray(err.details) ? err.details : [];
  showIssues(details.map((d) => ({ message: d.message || `${d.where}: ${d.problem}` })));
  say(errorWords(err), false);
}

async function loadDraft() {
  $("yaml").value = await api("GET", "/api/ivr/draft/yaml");
  const draft = await api("POST", "/api/ivr/validate");
  showIssues(draft.issues);
  say(draft.valid ? t("admin.draft_valid") : t("admin.draft_problems", { n: draft.issues.length }), draft.valid);
}

async function saveDraft() {
  const result = await api("PUT", "/api/ivr/draft/yaml", $("yaml").value, "application/yaml");
  showIssues(result.issues);
  say(result.valid ? t("admin.saved_valid") : t("admin.saved_problems", { n: result.issues.length }), result.valid);
  return result;
}

async function publish() {
  const saved = await saveDraft();
  if (!saved.valid) return;
  const out = await api("POST", "/api/ivr/publish", { note: $("note").value });
  say(t("admin.live_now", { version: out.version }), true);
  await loadVersions();
}

async function loadVersions() {
  drawVersions((shown.versions = await api("GET", "/api/ivr/versions")));
}

function drawVersions(versions) {
  const active = versions.find((v) => v.active);
  $("live").textContent = t("admin.live", { version: active ? active.number : "–" });
  const rows = versions.slice().reverse().map((v) => {
    const tr = element("tr", { className: v.active ? "active" : "" });
    for (const text of [v.number, formatDateTime(v.created_at), v.author, v.note]) tr.append(cell(text));
    const actions = element("td");
    if (!v.active) {
      const button = element("button", { textContent: t("admin.roll_back", { version: v.number }) });
      button.addEventListener("click", () => rollback(v.number).catch(showProblem));
      actions.append(button);
    }
    tr.append(actions);
    return tr;
  });
  document.querySelector("#versions tbody").replaceChildren(...rows);
}

async function rollback(number) {
  await api("POST", "/api/ivr/rollback", { version: number });
  say(t("admin.live_again", { version: number }), true);
  await loadVersions();
}

async function simulate() {
  const keys = $("keys").value.trim().split(/\s+/).filter(Boolean).map((k) => (k === "-" ? "" : k));
  const body = { keys, draft: $("simdraft").checked, language: $("lang").value || null };
  if ($("at").value) body.at = new Date($("at").value).toISOString();
  drawSimulation((shown.simulation = await api("POST", "/api/ivr/simulate", body)));
}

/** A topic's name in the page's language (else English) from the live IVR; its id when unknown. */
function topicName(id) {
  const topic = (shown.topics || []).find((x) => x.id === id);
  const names = topic ? topic.names : {};
  return names[i18n.language] || names.en || id;
}

/** A simulation's steps and where the call went, in the page's language. */
function drawSimulation(out) {
  const lines = out.steps.map((s) => t("admin.sim_step", {
    node: s.node, language: s.language, prompts: s.prompts.join(", "), pressed: s.pressed || t("admin.sim_nothing"),
  }));
  if (out.route) {
    const r = out.route;
    const where = r.kind === "referral"
      ? t("admin.sim_referral", { referral: r.referral, number: r.referral_number })
      : t("admin.sim_queue", { queue: r.queue });
    const words = { where, reason: r.reason, topic: r.topic ? topicName(r.topic) : "–", priority: r.priority };
    lines.push(t(r.after_hours ? "admin.sim_route_after_hours" : "admin.sim_route", words));
  } else {
    lines.push(t("admin.sim_waiting", { node: out.waiting_at }));
  }
  $("simout").textContent = lines.join("\n");
}

// --- The audit log ----------------------------------------------------------------------------
const audit = { after: 0, page: 100 };
/** What the page last drew from the API, drawn again in another language. */
const shown = { versions: null, simulation: null, tokens: null, kiosks: null, verdict: null, topics: [] };

function auditQuery(after) {
  const q = new URLSearchParams({ after: String(after), limit: String(audit.page) });
  if ($("audit-actor").value.trim()) q.set("actor", $("audit-actor").value.trim());
  if ($("audit-action").value.trim()) q.set("action", $("audit-action").value.trim());
  return q;
}

async function loadAudit(more) {
  const entries = await api("GET", `/api/audit?${auditQuery(more ? audit.after : 0)}`);
  const rows = entries.map((e) => {
    const tr = element("tr");
    tr.dataset.seq = String(e.seq);
    const details = Object.keys(e.details).length ? JSON.stringify(e.details) : "";
    for (const text of [e.seq, formatDateTime(e.at), e.actor, e.role, e.address, e.action, e.target, e.status, details]) {
      tr.append(cell(String(text)));
    }
    return tr;
  });
  const body = document.querySelector("#audit tbody");
  if (more) body.append(...rows); else body.replaceChildren(...rows);
  if (entries.length) audit.after = entries[entries.length - 1].seq;
  $("audit-more").hidden = entries.length < audit.page;
}

async function verifyAudit() {
  drawVerdict((shown.verdict = await api("GET", "/api/audit/verify")));
}

/** The audit chain's verdict in the page's language (a break keeps the server's words on it). */
function drawVerdict(verdict) {
  const count = { n: verdict.checked, count: formatNumber(verdict.checked), first: formatNumber(verdict.first) };
  let words = t("admin.audit_empty");
  if (!verdict.ok) words = t("admin.audit_broken", { says: verdict.says });
  else if (verdict.checked) words = t(verdict.first === 1 ? "admin.audit_intact" : "admin.audit_intact_since", count);
  $("audit-verdict").textContent = words;
  $("audit-verdict").className = verdict.ok ? "ok" : "error";
}

async function exportAudit() {
  const q = auditQuery(0);
  q.delete("after");
  q.delete("limit");
  const res = await request("GET", `/api/audit/export?${q}`);
  const link = element("a", { href: URL.createObjectURL(await res.blob()), download: "audit.csv" });
  link.click();
  URL.revokeObjectURL(link.href);
}

// --- API tokens, kiosk wallboards (issue 18); people are on the operators page -----------------

const when = (iso) => (iso ? formatDateTime(iso) : t("admin.never"));

function actionButton(text, className, run) {
  const button = element("button", { type: "button", textContent: text, className });
  button.addEventListener("click", () => run().catch(fail));
  return button;
}

/** The dialog of secrets shown once: each with a copy button. */
function showOnce(title, items, note) {
  $("once-h").textContent = title;
  $("once-items").replaceChildren(...items.flatMap(([label, value, id]) => {
    const code = element("code", { id, textContent: value });
    const copy = element("button", { type: "button", className: "copy", textContent: t("admin.copy") });
    copy.addEventListener("click", () => copyText(code));
    return [element("dt", { textContent: label }), element("dd", {}, code, copy)];
  }));
  $("once-note").textContent = note;
  $("once-copied").textContent = "";
  $("once").showModal();
}

async function copyText(code) {
  try {
    await navigator.clipboard.writeText(code.textContent);
    $("once-copied").textContent = t("admin.copied");
  } catch (_) { // no clipboard here (or refused): the text is selected for Ctrl+C
    window.getSelection().selectAllChildren(code);
    $("once-copied").textContent = t("admin.select_to_copy");
  }
}

async function loadScopes() {
  const scopes = await api("GET", "/api/tokens/scopes");
  const legend = $("token-scopes").querySelector("legend");
  $("token-scopes").replaceChildren(legend, ...scopes.map((scope) => element("label", {},
    element("input", { type: "checkbox", name: "scope", value: scope }), ` ${scope}`)));
}

async function loadTokens() {
  drawTokens((shown.tokens = await api("GET", "/api/tokens")));
}

function drawTokens(tokens) {
  const now = Date.now();
  document.querySelector("#tokens tbody").replaceChildren(...tokens.slice().reverse().map((k) => {
    const over = k.expires_at && Date.parse(k.expires_at) <= now;
    const gone = k.revoked_at ? t("admin.revoked") : over ? t("admin.expired") : "";
    const tr = element("tr", { className: gone ? "gone" : "" });
    tr.dataset.id = k.id;
    tr.append(cell(k.name), cell(k.scopes.join(", ")), cell(k.created_by), cell(when(k.created_at)),
      cell(gone || when(k.expires_at)), cell(when(k.used_at)));
    tr.append(element("td", {}, ...(gone ? [] : [actionButton(t("admin.revoke"), "revoke", () => revokeToken(k))])));
    return tr;
  }));
}

async function createToken() {
  const scopes = [...$("token-scopes").querySelectorAll("input:checked")].map((i) => i.value);
  if (!scopes.length) { say(t("admin.no_scope"), false); return; }
  const days = $("token-never").checked ? null : Number($("token-days").value);
  const made = await api("POST", "/api/tokens", { name: $("token-name").value.trim(), scopes, days });
  $("token-form").reset();
  $("token-days").disabled = false;
  const name = made.about.name;
  say(t("admin.token_made", { name }), true);
  showOnce(t("admin.token_title", { name }), [[t("admin.token"), made.token, "once-token"]], t("admin.token_note"));
  await loadTokens();
}

async function revokeToken(token) {
  if (!window.confirm(t("admin.confirm_token", { name: token.name }))) return;
  await api("DELETE", `/api/tokens/${encodeURIComponent(token.id)}`);
  say(t("admin.token_revoked", { name: token.name }), true);
  await loadTokens();
}

async function loadKiosks() {
  drawKiosks((shown.kiosks = await api("GET", "/api/kiosks")));
}

function drawKiosks(kiosks) {
  document.querySelector("#kiosks tbody").replaceChildren(...kiosks.map((k) => {
    const tr = element("tr");
    tr.dataset.id = k.id;
    tr.append(cell(k.label), cell(k.issued_by), cell(when(k.created_at)), cell(k.paired ? t("admin.paired") : t("admin.waiting")),
      cell(when(k.expires_at)), cell(k.paired ? when(k.seen_at) : ""));
    tr.append(element("td", {}, actionButton(t("admin.revoke"), "revoke", () => revokeKiosk(k))));
    return tr;
  }));
}

async function issueKiosk() {
  const made = await api("POST", "/api/kiosks", { label: $("kiosk-label").value.trim() });
  $("kiosk-form").reset();
  const label = made.kiosk.label;
  say(t("admin.kiosk_issued", { label }), true);
  const link = new URL(made.link, window.location.origin).href;
  showOnce(t("admin.kiosk_title", { label }), [[t("admin.kiosk_link"), link, "once-link"]], t("admin.kiosk_note"));
  await loadKiosks();
}

async function revokeKiosk(k) {
  if (!window.confirm(t("admin.confirm_kiosk", { label: k.label }))) return;
  await api("DELETE", `/api/kiosks/${encodeURIComponent(k.id)}`);
  say(t("admin.kiosk_revoked", { label: k.label }), true);
  await loadKiosks();
}

async function start() {
  try {
    await loadVersions();
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    throw err;
  }
  signedIn();
  const topics = api("GET", "/api/topics").then((live) => { shown.topics = live; }, () => undefined); // else ids
  await Promise.all([loadScopes(), loadTokens(), loadKiosks(), topics]).catch(fail);
  await loadDraft();
}

/** A form whose submit runs `run`, its problem shown in the message area. */
function onSubmit(id, run) {
  $(id).addEventListener("submit", (ev) => { ev.preventDefault(); run().catch(fail); });
}

$("save").addEventListener("click", () => saveDraft().catch(showProblem));
$("validate").addEventListener("click", () => saveDraft().catch(showProblem));
$("publish").addEventListener("click", () => publish().catch(showProblem));
$("simulate").addEventListener("click", () => simulate().catch(showProblem));
$("audit-load").addEventListener("click", () => loadAudit(false).catch(showProblem));
$("audit-more").addEventListener("click", () => loadAudit(true).catch(showProblem));
$("audit-verify").addEventListener("click", () => verifyAudit().catch(showProblem));
$("audit-export").addEventListener("click", () => exportAudit().catch(showProblem));
onSubmit("token-form", createToken);
onSubmit("kiosk-form", issueKiosk);
$("token-never").addEventListener("change", () => { $("token-days").disabled = $("token-never").checked; });
$("once-done").addEventListener("click", () => $("once").close());
$("once").addEventListener("close", () => $("once-items").replaceChildren()); // the secrets leave the page
/** Another language: what the scripts drew from the API is drawn again in it. */
function redraw() {
  if (!isSignedIn()) return;
  if (shown.versions) drawVersions(shown.versions);
  if (shown.simulation) drawSimulation(shown.simulation);
  if (shown.tokens) drawTokens(shown.tokens);
  if (shown.kiosks) drawKiosks(shown.kiosks);
  if (shown.verdict) drawVerdict(shown.verdict);
  if (document.querySelector("#audit tbody tr")) loadAudit(false).catch(showProblem);
}

onLanguage(redraw);
signIn({ start: () => start().catch(showProblem) });
