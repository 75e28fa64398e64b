"use strict";
// Hotline administration: the IVR (/api/ivr), machines' API tokens, kiosk wallboards, the audit
// log, and a link to the operators page (people); an admin's session, no external assets.
// The fetch wrapper, the sign-in, the DOM helpers and say() come from common.js.

function showIssues(issues) {
  $("issues").replaceChildren(...issues.map((i) => element("li", { textContent: i.message })));
}

/** An error: its listed problems under the draft, its detail in the message area. */
function showProblem(err) {
  const details = Array.isArray(err.details) ? err.details : [];
  showIssues(details.map((d) => ({ message: d.message || `${d.where}: ${d.problem}` })));
  say(err.message, false);
}

async function loadDraft() {
  $("yaml").value = await api("GET", "/api/ivr/draft/yaml");
  const draft = await api("POST", "/api/ivr/validate");
  showIssues(draft.issues);
  say(draft.valid ? "The draft is valid." : `The draft has ${draft.issues.length} problem(s).`, draft.valid);
}

async function saveDraft() {
  const result = await api("PUT", "/api/ivr/draft/yaml", $("yaml").value, "application/yaml");
  showIssues(result.issues);
  say(result.valid ? "Draft saved; it is valid." : `Draft saved with ${result.issues.length} problem(s).`, result.valid);
  return result;
}

async function publish() {
  const saved = await saveDraft();
  if (!saved.valid) return;
  const out = await api("POST", "/api/ivr/publish", { note: $("note").value });
  say(`Version ${out.version} is live.`, true);
  await loadVersions();
}

async function loadVersions() {
  const versions = await api("GET", "/api/ivr/versions");
  const active = versions.find((v) => v.active);
  $("live").textContent = `live version: ${active ? active.number : "–"}`;
  const rows = versions.slice().reverse().map((v) => {
    const tr = element("tr", { className: v.active ? "active" : "" });
    for (const text of [v.number, new Date(v.created_at).toLocaleString(), v.author, v.note]) tr.append(cell(text));
    const actions = element("td");
    if (!v.active) {
      const button = element("button", { textContent: `Roll back to ${v.number}` });
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
  say(`Version ${number} is live again.`, true);
  await loadVersions();
}

async function simulate() {
  const keys = $("keys").value.trim().split(/\s+/).filter(Boolean).map((k) => (k === "-" ? "" : k));
  const body = { keys, draft: $("simdraft").checked, language: $("lang").value || null };
  if ($("at").value) body.at = new Date($("at").value).toISOString();
  const out = await api("POST", "/api/ivr/simulate", body);
  const lines = out.steps.map((s) => `${s.node} [${s.language}] plays ${s.prompts.join(", ")}; pressed ${s.pressed || "nothing"}`);
  if (out.route) {
    const r = out.route;
    const where = r.kind === "referral" ? `referral ${r.referral} (${r.referral_number})` : `queue ${r.queue}`;
    lines.push(`→ ${where}; reason ${r.reason}; topic ${r.topic || "–"}; priority ${r.priority}${r.after_hours ? "; after hours" : ""}`);
  } else {
    lines.push(`… still at ${out.waiting_at}, waiting for a key`);
  }
  $("simout").textContent = lines.join("\n");
}

// --- The audit log ----------------------------------------------------------------------------
const audit = { after: 0, page: 100 };

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
    for (const text of [e.seq, new Date(e.at).toLocaleString(), e.actor, e.role, e.address, e.action, e.target, e.status, details]) {
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
  const verdict = await api("GET", "/api/audit/verify");
  $("audit-verdict").textContent = verdict.says;
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

/** Every sentence these parts show, in one place for a translation catalogue (issue 19). */
const ADMIN_TEXT = {
  never: "never",
  tokenTitle: (name) => `API token ${name}`,
  token: "Token",
  tokenNote: "Shown once: the service keeps only its hash. The machine sends it as a bearer token.",
  tokenMade: (name) => `Token ${name} created.`,
  noScope: "Choose at least one scope.",
  revoke: "Revoke",
  revoked: "revoked",
  expired: "expired",
  confirmToken: (name) => `Revoke the token ${name}? Whatever uses it is refused from now on.`,
  tokenRevoked: (name) => `Token ${name} revoked.`,
  kioskTitle: (label) => `Kiosk wallboard ${label}`,
  kioskLink: "Link (open it on the TV within 15 minutes)",
  kioskNote: "Shown once. The link works once: the TV pairs itself and keeps showing the wallboard until you revoke it.",
  kioskIssued: (label) => `Link for ${label} issued.`,
  paired: "paired",
  waiting: "waiting to be paired",
  confirmKiosk: (label) => `Revoke the kiosk ${label}? The TV stops showing the wallboard at once.`,
  kioskRevoked: (label) => `Kiosk ${label} revoked.`,
  copy: "Copy",
  copied: "Copied.",
  selectToCopy: "Selected: press Ctrl+C to copy.",
};

const when = (iso) => (iso ? new Date(iso).toLocaleString() : ADMIN_TEXT.never);

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
    const copy = element("button", { type: "button", className: "copy", textContent: ADMIN_TEXT.copy });
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
    $("once-copied").textContent = ADMIN_TEXT.copied;
  } catch (_) { // no clipboard here (or refused): the text is selected for Ctrl+C
    window.getSelection().selectAllChildren(code);
    $("once-copied").textContent = ADMIN_TEXT.selectToCopy;
  }
}

async function loadScopes() {
  const scopes = await api("GET", "/api/tokens/scopes");
  const legend = $("token-scopes").querySelector("legend");
  $("token-scopes").replaceChildren(legend, ...scopes.map((scope) => element("label", {},
    element("input", { type: "checkbox", name: "scope", value: scope }), ` ${scope}`)));
}

async function loadTokens() {
  const now = Date.now();
  const tokens = await api("GET", "/api/tokens");
  document.querySelector("#tokens tbody").replaceChildren(...tokens.slice().reverse().map((t) => {
    const gone = t.revoked_at ? ADMIN_TEXT.revoked : t.expires_at && Date.parse(t.expires_at) <= now ? ADMIN_TEXT.expired : "";
    const tr = element("tr", { className: gone ? "gone" : "" });
    tr.dataset.id = t.id;
    tr.append(cell(t.name), cell(t.scopes.join(", ")), cell(t.created_by), cell(when(t.created_at)),
      cell(gone || when(t.expires_at)), cell(when(t.used_at)));
    tr.append(element("td", {}, ...(gone ? [] : [actionButton(ADMIN_TEXT.revoke, "revoke", () => revokeToken(t))])));
    return tr;
  }));
}

async function createToken() {
  const scopes = [...$("token-scopes").querySelectorAll("input:checked")].map((i) => i.value);
  if (!scopes.length) { say(ADMIN_TEXT.noScope, false); return; }
  const days = $("token-never").checked ? null : Number($("token-days").value);
  const made = await api("POST", "/api/tokens", { name: $("token-name").value.trim(), scopes, days });
  $("token-form").reset();
  $("token-days").disabled = false;
  say(ADMIN_TEXT.tokenMade(made.about.name), true);
  showOnce(ADMIN_TEXT.tokenTitle(made.about.name), [[ADMIN_TEXT.token, made.token, "once-token"]], ADMIN_TEXT.tokenNote);
  await loadTokens();
}

async function revokeToken(t) {
  if (!window.confirm(ADMIN_TEXT.confirmToken(t.name))) return;
  await api("DELETE", `/api/tokens/${encodeURIComponent(t.id)}`);
  say(ADMIN_TEXT.tokenRevoked(t.name), true);
  await loadTokens();
}

async function loadKiosks() {
  const kiosks = await api("GET", "/api/kiosks");
  document.querySelector("#kiosks tbody").replaceChildren(...kiosks.map((k) => {
    const tr = element("tr");
    tr.dataset.id = k.id;
    tr.append(cell(k.label), cell(k.issued_by), cell(when(k.created_at)), cell(k.paired ? ADMIN_TEXT.paired : ADMIN_TEXT.waiting),
      cell(when(k.expires_at)), cell(k.paired ? when(k.seen_at) : ""));
    tr.append(element("td", {}, actionButton(ADMIN_TEXT.revoke, "revoke", () => revokeKiosk(k))));
    return tr;
  }));
}

async function issueKiosk() {
  const made = await api("POST", "/api/kiosks", { label: $("kiosk-label").value.trim() });
  $("kiosk-form").reset();
  say(ADMIN_TEXT.kioskIssued(made.kiosk.label), true);
  const link = new URL(made.link, window.location.origin).href;
  showOnce(ADMIN_TEXT.kioskTitle(made.kiosk.label), [[ADMIN_TEXT.kioskLink, link, "once-link"]], ADMIN_TEXT.kioskNote);
  await loadKiosks();
}

async function revokeKiosk(k) {
  if (!window.confirm(ADMIN_TEXT.confirmKiosk(k.label))) return;
  await api("DELETE", `/api/kiosks/${encodeURIComponent(k.id)}`);
  say(ADMIN_TEXT.kioskRevoked(k.label), true);
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
  await Promise.all([loadScopes(), loadTokens(), loadKiosks()]).catch(fail);
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
signIn({ start: () => start().catch(showProblem) });
