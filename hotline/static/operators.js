"use strict";
// Hotline operators (issue 19, item 1): who works the line, their state and queues, who is
// online now; admins add people, edit name, role and skills per topic, deactivate, and make new
// credentials, shown once with the softphone's configuration and a QR code to provision it.
// Shift leads see the list read only (the API refuses them changes anyway). The QR code is made
// here from the one-time answer (qrcode-generator.js, vendored, MIT): the server keeps no
// password to draw it from. The fetch wrapper, the sign-in, the DOM helpers come from common.js.

/** Every sentence this page shows, in one place for a translation catalogue (issue 19). */
const OPS_TEXT = {
  title: "Operators",
  onlineTitle: "Online now",
  listTitle: "People",
  readOnly: "You can see the list; only admins add or change people.",
  filtersTitle: "Filters",
  filterText: "Name or id",
  filterRole: "Role",
  filterState: "State",
  filterTopic: "Skill",
  filterInactive: "Show deactivated",
  filterClear: "Clear filters",
  any: "any",
  onlineNow: "online now",
  colName: "Name",
  colRole: "Role",
  colState: "State",
  colQueues: "Queues",
  colSkills: "Skills",
  colAccount: "Account",
  colActions: "Actions",
  addTitle: "Add a person",
  addHint: "The id is a pseudonym: it is also the softphone's user name, and it cannot change. Their credentials are shown once, right after.",
  fieldId: "Id",
  idHint: "2 to 40 characters: lower-case letters, digits, - and _, starting with a letter (e.g. op-anna).",
  fieldName: "Display name",
  fieldRole: "Role",
  skillsLegend: "Skills per topic (they decide the queues)",
  addButton: "Add",
  save: "Save",
  cancel: "Cancel",
  roles: { operator: "operator", senior: "senior", shift_lead: "shift lead", admin: "admin" },
  // A state in words with a sign before it, so it never rests on colour alone.
  states: {
    available: ["●", "available"],
    ringing: ["◔", "ringing"],
    on_call: ["☎", "on a call"],
    wrap_up: ["◑", "after-call work"],
    paused: ["❚❚", "paused"],
    unreachable: ["⚠", "unreachable (softphone not registered)"],
    logged_out: ["○", "logged out"],
  },
  pausedFor: (state, reason) => `${state} (${reason})`,
  levels: { 0: "—", 1: "1 beginner", 2: "2 intermediate", 3: "3 experienced" },
  noSkill: "none",
  skillLevel: (name, level) => `${name}: ${level}`,
  noQueues: "—",
  byskills: (queues) => `${queues} (when logged in)`,
  active: "active",
  inactive: "deactivated",
  waiting: (nodes) => `Asterisk has not taken the last change yet (${nodes})`,
  shown: (n, all) => `${n} of ${all} shown.`,
  nobodyOnline: "Nobody is logged in.",
  online: (n) => `${n} online`,
  onlineLine: (o, state) => `${o.display_name} (${o.id}): ${state}`,
  byState: (parts) => `Logged in: ${parts}.`,
  edit: "Edit",
  editTitle: (o) => `Edit ${o.display_name} (${o.id})`,
  newCredentials: "New credentials",
  resetSecondFactor: "Reset second factor",
  deactivate: "Deactivate",
  reactivate: "Reactivate",
  actionsFor: (label, o) => `${label}: ${o.display_name} (${o.id})`,
  confirmCredentials: (id) => `New credentials for ${id}? Their sign-in password, softphone password and API token change now, and their sessions end.`,
  confirmSecondFactor: (id) => `Reset ${id}'s second factor? They set up a new authenticator app at their next sign-in.`,
  confirmDeactivate: (id) => `Deactivate ${id}? They can no longer sign in or take calls; their sessions end. You can reactivate them later.`,
  added: (id) => `${id} added. Hand them the credentials below.`,
  saved: (id) => `${id} saved.`,
  deactivated: (id) => `${id} deactivated; their sessions ended.`,
  reactivated: (id) => `${id} reactivated.`,
  reset: (id) => `${id} has new credentials; their sessions ended.`,
  secondFactorReset: (id) => `${id} sets up a new authenticator app at their next sign-in.`,
  secretsTitle: (id) => `Credentials of ${id}`,
  onceWarning: "Shown once, never again: the service keeps no copy. Hand them to the person now (copy them or let them scan the QR code), then close this. They change the sign-in password after signing in.",
  signInPassword: "One-time sign-in password",
  apiToken: "Personal API token",
  softphoneConfig: "Softphone configuration",
  provisioning: "Provisioning address (sip: with the password, for softphones that read one)",
  config: {
    server: "Server",
    port: "Port",
    transport: "Transport",
    username: "User name",
    authUser: "Authentication user",
    realm: "Realm (domain)",
    password: "Password",
  },
  qrCaption: "Scan this with the softphone's QR reader: it holds the provisioning address above, password included. Anyone who sees it can use the account.",
  qrLabel: (id) => `QR code of ${id}'s softphone provisioning address`,
  secretsDone: "Done: hide them",
  copy: "Copy",
  copyWhat: (what) => `Copy: ${what}`,
  copied: (what) => `Copied: ${what}.`,
  selectToCopy: "Selected: press Ctrl+C to copy.",
};

const ops = { who: null, list: [], topics: [], timer: 0 };
const REFRESH_MS = 10000; // the states change as people log in and take calls
const ROLES = ["operator", "senior", "shift_lead", "admin"];

// --- Words --------------------------------------------------------------------------------------

/** Fills every element marked data-text with its sentence. */
function fillTexts() {
  for (const el of document.querySelectorAll("[data-text]")) el.textContent = OPS_TEXT[el.dataset.text];
}

/** The languages to show names in: the browser's, then English. */
function languages() {
  return [...(navigator.languages || []), "en"].map((l) => l.slice(0, 2).toLowerCase());
}

/** A topic's name in the reader's language (its id when the live IVR has no such topic). */
function topicName(id) {
  const topic = ops.topics.find((t) => t.id === id);
  if (!topic) return id;
  const lang = languages().find((l) => topic.names[l]);
  return lang ? topic.names[lang] : Object.values(topic.names)[0] || id;
}

function stateWords(o) {
  const [sign, words] = OPS_TEXT.states[o.state.status] || ["?", o.state.status];
  const text = o.state.paused_reason ? OPS_TEXT.pausedFor(words, o.state.paused_reason) : words;
  return { sign, text };
}

const isOnline = (o) => o.active && o.state.status !== "logged_out";
const canEdit = () => Boolean(ops.who && ops.who.role === "admin");

/** The queues they are in now; logged out, the queues their skills would put them in. */
function queuesText(o) {
  if (o.state.queues.length) return o.state.queues.join(", ");
  const queues = [...new Set(Object.keys(o.skills).map((t) => (ops.topics.find((x) => x.id === t) || {}).queue).filter(Boolean))];
  return queues.length ? OPS_TEXT.byskills(queues.join(", ")) : OPS_TEXT.noQueues;
}

function skillsText(o) {
  const skills = Object.entries(o.skills).sort(([a], [b]) => topicName(a).localeCompare(topicName(b)));
  return skills.length ? skills.map(([t, l]) => OPS_TEXT.skillLevel(topicName(t), l)).join("; ") : OPS_TEXT.noSkill;
}

// --- Filters --------------------------------------------------------------------------------------

function options(select, pairs) {
  const kept = select.value;
  select.replaceChildren(...pairs.map(([value, text]) => element("option", { value, textContent: text })));
  if (pairs.some(([value]) => value === kept)) select.value = kept;
}

function fillFilters() {
  options($("filter-role"), [["", OPS_TEXT.any], ...ROLES.map((r) => [r, roleName(r)])]);
  options($("filter-state"), [["", OPS_TEXT.any], ["online", OPS_TEXT.onlineNow],
    ...Object.entries(OPS_TEXT.states).map(([s, [, words]]) => [s, words])]);
  options($("filter-topic"), [["", OPS_TEXT.any], ...ops.topics.map((t) => [t.id, topicName(t.id)])]);
  for (const id of ["add-role", "edit-role"]) options($(id), ROLES.map((r) => [r, roleName(r)]));
}

function matches(o) {
  const text = $("filter-text").value.trim().toLowerCase();
  const role = $("filter-role").value, state = $("filter-state").value, topic = $("filter-topic").value;
  if (!o.active && !$("filter-inactive").checked) return false;
  if (text && !`${o.id} ${o.display_name}`.toLowerCase().includes(text)) return false;
  if (role && o.role !== role) return false;
  if (state === "online" ? !isOnline(o) : state && o.state.status !== state) return false;
  return !topic || Boolean(o.skills[topic]);
}

// --- The list -------------------------------------------------------------------------------------

/** A cell that names its column too: on a phone the rows become cards (operators.css). */
function labelled(key, text, className) {
  const td = cell(text, className);
  td.dataset.label = OPS_TEXT[key];
  return td;
}

function stateCell(o) {
  const { sign, text } = stateWords(o);
  const td = labelled("colState", "", "state");
  td.dataset.state = o.active ? o.state.status : "inactive";
  td.append(element("span", { className: "sign", textContent: sign, ariaHidden: "true" }), ` ${text}`);
  return td;
}

function accountCell(o) {
  const td = labelled("colAccount", o.active ? OPS_TEXT.active : OPS_TEXT.inactive);
  if (!o.asterisk.applied) td.append(element("br"), element("small", { textContent: OPS_TEXT.waiting(Object.keys(o.asterisk.pending).join(", ")) }));
  return td;
}

function actionButton(label, action, o, run) {
  const button = element("button", { type: "button", textContent: label, className: action });
  button.dataset.action = action;
  button.dataset.id = o.id;
  button.setAttribute("aria-label", OPS_TEXT.actionsFor(label, o));
  button.addEventListener("click", () => run(o).catch(fail));
  return button;
}

function actionsCell(o) {
  const td = labelled("colActions", "", "actions");
  td.append(actionButton(OPS_TEXT.edit, "edit", o, openEdit));
  if (o.active) {
    td.append(actionButton(OPS_TEXT.newCredentials, "credentials", o, resetCredentials),
      actionButton(OPS_TEXT.resetSecondFactor, "second-factor", o, resetSecondFactor));
    if (!ops.who || o.id !== ops.who.id) td.append(actionButton(OPS_TEXT.deactivate, "deactivate", o, deactivate));
  } else {
    td.append(actionButton(OPS_TEXT.reactivate, "reactivate", o, reactivate));
  }
  return td;
}

function row(o) {
  const tr = element("tr", { className: o.active ? "" : "gone" });
  tr.dataset.id = o.id;
  const name = labelled("colName", "", "name");
  name.append(element("strong", { textContent: o.display_name }), " ", element("span", { className: "id", textContent: o.id }));
  tr.append(name, labelled("colRole", roleName(o.role)), stateCell(o), labelled("colQueues", queuesText(o)),
    labelled("colSkills", skillsText(o)), accountCell(o));
  if (canEdit()) tr.append(actionsCell(o));
  return tr;
}

/** Redraws the list; a button that had the focus has it again in its new row. */
function drawList() {
  const focused = document.activeElement;
  const again = focused && focused.dataset && focused.dataset.action && focused.closest("#operators")
    ? `#operators button[data-action="${focused.dataset.action}"][data-id="${CSS.escape(focused.dataset.id)}"]` : "";
  const shown = ops.list.filter(matches);
  document.querySelector("#operators tbody").replaceChildren(...shown.map(row));
  document.querySelector("#operators th.actions").hidden = !canEdit();
  $("shown").textContent = OPS_TEXT.shown(shown.length, ops.list.length);
  if (again && document.querySelector(again)) document.querySelector(again).focus();
  drawOnline();
}

function drawOnline() {
  const online = ops.list.filter(isOnline);
  $("online-count").textContent = OPS_TEXT.online(online.length);
  const counts = {};
  for (const o of online) counts[stateWords(o).text] = (counts[stateWords(o).text] || 0) + 1;
  $("online-summary").textContent = online.length
    ? OPS_TEXT.byState(Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ")) : OPS_TEXT.nobodyOnline;
  $("online").replaceChildren(...online.map((o) => {
    const { sign, text } = stateWords(o);
    const li = element("li", {}, element("span", { className: "sign", textContent: sign, ariaHidden: "true" }), ` ${OPS_TEXT.onlineLine(o, text)}`);
    li.dataset.state = o.state.status;
    return li;
  }));
}

async function loadList() {
  ops.list = await api("GET", "/api/operators");
  drawList();
}

function refreshSoon() {
  clearTimeout(ops.timer);
  ops.timer = setTimeout(() => {
    if (!ops.who) return;
    if (!document.hidden) loadList().catch(fail);
    refreshSoon();
  }, REFRESH_MS);
}

// --- Skills, adding, editing ------------------------------------------------------------------------

/** One select per topic (and per skill the live IVR no longer has), its level chosen. */
function drawSkills(fieldset, skills) {
  const legend = fieldset.querySelector("legend");
  const ids = [...ops.topics.map((t) => t.id), ...Object.keys(skills).filter((t) => !ops.topics.some((x) => x.id === t))];
  fieldset.replaceChildren(legend, ...ids.map((id) => {
    const select = element("select", { name: id });
    options(select, [0, 1, 2, 3].map((l) => [String(l), OPS_TEXT.levels[l]]));
    select.value = String(skills[id] || 0);
    return element("label", {}, element("span", { textContent: topicName(id) }), select);
  }));
}

function skillsOf(fieldset) {
  const skills = {};
  for (const select of fieldset.querySelectorAll("select")) if (select.value !== "0") skills[select.name] = Number(select.value);
  return skills;
}

async function addPerson() {
  const body = { id: $("add-id").value.trim(), display_name: $("add-name").value.trim(), role: $("add-role").value, skills: skillsOf($("add-skills")) };
  const made = await api("POST", "/api/operators", body);
  $("add-form").reset();
  drawSkills($("add-skills"), {});
  say(OPS_TEXT.added(made.operator.id), true);
  showSecrets(made);
  await loadList();
}

const editing = { id: "" };

async function openEdit(o) {
  editing.id = o.id;
  $("edit-h").textContent = OPS_TEXT.editTitle(o);
  $("edit-name").value = o.display_name;
  $("edit-role").value = o.role;
  $("edit-note").textContent = "";
  drawSkills($("edit-skills"), o.skills);
  $("edit").showModal();
}

async function saveEdit() {
  const body = { display_name: $("edit-name").value.trim(), role: $("edit-role").value, skills: skillsOf($("edit-skills")) };
  try {
    await api("PATCH", `/api/operators/${encodeURIComponent(editing.id)}`, body);
  } catch (err) {
    $("edit-note").textContent = describe(err);
    return;
  }
  $("edit").close();
  say(OPS_TEXT.saved(editing.id), true);
  await loadList();
}

async function deactivate(o) {
  if (!window.confirm(OPS_TEXT.confirmDeactivate(o.id))) return;
  await api("PATCH", `/api/operators/${encodeURIComponent(o.id)}`, { active: false });
  say(OPS_TEXT.deactivated(o.id), true);
  await loadList();
}

async function reactivate(o) {
  await api("PATCH", `/api/operators/${encodeURIComponent(o.id)}`, { active: true });
  say(OPS_TEXT.reactivated(o.id), true);
  await loadList();
}

async function resetCredentials(o) {
  if (!window.confirm(OPS_TEXT.confirmCredentials(o.id))) return;
  const made = await api("POST", `/api/operators/${encodeURIComponent(o.id)}/credentials`);
  say(OPS_TEXT.reset(o.id), true);
  showSecrets(made);
}

async function resetSecondFactor(o) {
  if (!window.confirm(OPS_TEXT.confirmSecondFactor(o.id))) return;
  await api("DELETE", `/api/operators/${encodeURIComponent(o.id)}/second-factor`);
  say(OPS_TEXT.secondFactorReset(o.id), true);
}

// --- The secrets, shown once ---------------------------------------------------------------------------

/** What to type into a softphone, one field a line, labelled. */
function softphoneConfig(s) {
  const c = OPS_TEXT.config;
  return [[c.server, s.server], [c.port, s.port], [c.transport, s.transport], [c.username, s.username],
    [c.authUser, s.username], [c.realm, s.realm], [c.password, s.password]].map(([k, v]) => `${k}: ${v}`).join("\n");
}

/** The account as a SIP URI with its password (RFC 3261's user:password@host form), the one
 * provisioning text softphones share; user and password percent-encoded. */
function provisioningUri(s) {
  const host = s.server.includes(":") ? `[${s.server}]` : s.server;
  return `sip:${encodeURIComponent(s.username)}:${encodeURIComponent(s.password)}@${host}:${s.port};transport=${s.transport}`;
}

/** The QR code of `text` as SVG: dark modules as one path, a quiet zone of four modules. */
function qrSvg(text, label) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount(), quiet = 4, size = n + 2 * quiet;
  let path = "";
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) if (qr.isDark(r, c)) path += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  }
  const svg = svgElement("svg", { viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": label, "shape-rendering": "crispEdges", class: "qr" });
  svg.append(svgElement("rect", { width: size, height: size, fill: "#fff" }), svgElement("path", { d: path, fill: "#000" }));
  svg.dataset.modules = String(n);
  return svg;
}

function secret(label, value, id, tag) {
  const text = element(tag || "code", { id, textContent: value });
  const copy = element("button", { type: "button", className: "copy", textContent: OPS_TEXT.copy });
  copy.setAttribute("aria-label", OPS_TEXT.copyWhat(label));
  copy.addEventListener("click", () => copyText(text, label));
  return [element("dt", { textContent: label }), element("dd", {}, text, copy)];
}

async function copyText(node, label) {
  try {
    await navigator.clipboard.writeText(node.textContent);
    $("secrets-copied").textContent = OPS_TEXT.copied(label);
  } catch (_) { // no clipboard here (or refused): the text is selected for Ctrl+C
    window.getSelection().selectAllChildren(node);
    $("secrets-copied").textContent = OPS_TEXT.selectToCopy;
  }
}

function showSecrets(made) {
  const id = made.operator.id, phone = made.softphone, uri = provisioningUri(phone);
  $("secrets-h").textContent = OPS_TEXT.secretsTitle(id);
  $("secrets-items").replaceChildren(
    ...secret(OPS_TEXT.signInPassword, made.password, "secret-password"),
    ...secret(OPS_TEXT.apiToken, made.api_token, "secret-api-token"),
    ...secret(OPS_TEXT.softphoneConfig, softphoneConfig(phone), "secret-softphone", "pre"),
    ...secret(OPS_TEXT.provisioning, uri, "secret-uri"));
  $("secrets-qr").replaceChildren(qrSvg(uri, OPS_TEXT.qrLabel(id)));
  $("secrets-copied").textContent = "";
  $("secrets").showModal();
  $("secrets-h").focus(); // from the top: the warning is read before the secrets
}

/** Closed (Done, or Escape): the secrets leave the page. */
function forgetSecrets() {
  $("secrets-items").replaceChildren();
  $("secrets-qr").replaceChildren();
  $("secrets-copied").textContent = "";
}

// --- Start --------------------------------------------------------------------------------------------

async function start(who) {
  ops.who = who;
  let topicsFailed = null; // the list still shows, its skills by id
  const topics = api("GET", "/api/topics").catch((err) => { topicsFailed = err; return []; });
  try {
    Object.assign(ops, { list: await api("GET", "/api/operators"), topics: await topics });
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    throw err;
  }
  signedIn();
  if (topicsFailed) fail(topicsFailed);
  fillFilters();
  $("add").hidden = !canEdit();
  $("read-only").hidden = canEdit();
  drawSkills($("add-skills"), {});
  drawList();
  refreshSoon();
}

function stop() {
  clearTimeout(ops.timer);
  ops.who = null;
  for (const id of ["edit", "secrets"]) if ($(id).open) $(id).close();
}

fillTexts();
$("filters").addEventListener("input", drawList);
$("filters").addEventListener("submit", (ev) => ev.preventDefault());
$("filters").addEventListener("reset", () => setTimeout(drawList, 0)); // after the fields reset
$("add-form").addEventListener("submit", (ev) => { ev.preventDefault(); addPerson().catch(fail); });
$("edit-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveEdit().catch(fail); });
$("edit-cancel").addEventListener("click", () => $("edit").close());
$("secrets-done").addEventListener("click", () => $("secrets").close());
$("secrets").addEventListener("close", forgetSecrets);
signIn({ start: (who) => start(who).catch(fail), onSignOut: stop });
