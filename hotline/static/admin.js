"use strict";
// Hotline IVR administration: talks to /api/ivr with the admin token; no external assets.
const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("hotline-token") || "" };

async function api(method, path, body, type) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : (type ? body : JSON.stringify(body)) });
  const text = await res.text();
  let data = text;
  try { data = JSON.parse(text); } catch (_) { /* YAML or plain text */ }
  if (!res.ok) throw Object.assign(new Error(data.message || res.statusText), { data, status: res.status });
  return data;
}

function showIssues(issues) {
  const list = $("issues");
  list.replaceChildren(...issues.map((i) => Object.assign(document.createElement("li"), { textContent: i.message })));
}

function say(text, ok) {
  const el = $("status");
  el.textContent = text;
  el.className = ok ? "ok" : "bad";
}

function fail(err) {
  const details = Array.isArray(err.data && err.data.details) ? err.data.details : [];
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
  const out = await api("POST", "/api/ivr/publish", { note: $("note").value, author: "admin page" });
  say(`Version ${out.version} is live.`, true);
  await loadVersions();
}

async function loadVersions() {
  const versions = await api("GET", "/api/ivr/versions");
  const active = versions.find((v) => v.active);
  $("live").textContent = `live version: ${active ? active.number : "–"}`;
  const rows = versions.slice().reverse().map((v) => {
    const tr = document.createElement("tr");
    if (v.active) tr.className = "active";
    for (const text of [v.number, new Date(v.created_at).toLocaleString(), v.author, v.note]) {
      tr.appendChild(Object.assign(document.createElement("td"), { textContent: String(text) }));
    }
    const cell = document.createElement("td");
    if (!v.active) {
      const button = Object.assign(document.createElement("button"), { textContent: `Roll back to ${v.number}` });
      button.addEventListener("click", () => rollback(v.number).catch(fail));
      cell.appendChild(button);
    }
    tr.appendChild(cell);
    return tr;
  });
  document.querySelector("#versions tbody").replaceChildren(...rows);
}

async function rollback(number) {
  await api("POST", "/api/ivr/rollback", { version: number, author: "admin page" });
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

async function start() {
  try {
    await loadVersions();
  } catch (err) {
    if (err.status === 401) { say("That token was refused.", false); $("app").hidden = true; return; }
    throw err;
  }
  $("app").hidden = false;
  await loadDraft();
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("token").value.trim();
  sessionStorage.setItem("hotline-token", state.token);
  start().catch(fail);
});
$("save").addEventListener("click", () => saveDraft().catch(fail));
$("validate").addEventListener("click", () => saveDraft().catch(fail));
$("publish").addEventListener("click", () => publish().catch(fail));
$("simulate").addEventListener("click", () => simulate().catch(fail));
if (state.token) { $("token").value = state.token; start().catch(fail); }
