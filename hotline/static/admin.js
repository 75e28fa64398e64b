"use strict";
// Hotline IVR administration: talks to /api/ivr with the admin token; no external assets.
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

async function start() {
  try {
    await loadVersions();
  } catch (err) {
    if (refused(err)) { signOut(); say("That token was refused.", false); return; }
    throw err;
  }
  signedIn();
  await loadDraft();
}

$("save").addEventListener("click", () => saveDraft().catch(showProblem));
$("validate").addEventListener("click", () => saveDraft().catch(showProblem));
$("publish").addEventListener("click", () => publish().catch(showProblem));
$("simulate").addEventListener("click", () => simulate().catch(showProblem));
$("audit-load").addEventListener("click", () => loadAudit(false).catch(showProblem));
$("audit-more").addEventListener("click", () => loadAudit(true).catch(showProblem));
$("audit-verify").addEventListener("click", () => verifyAudit().catch(showProblem));
$("audit-export").addEventListener("click", () => exportAudit().catch(showProblem));
signIn({ form: "login", start: () => start().catch(showProblem) });
