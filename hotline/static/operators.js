"use strict";
// Hotline operators (issue 19, item 1): who works the line, their state and queues, who is
// online now; admins add people, edit name, role and skills per topic, deactivate, and make new
// credentials, shown once with the softphone's configuration and a QR code to provision it.
// Shift leads see the list read only (the API refuses them changes anyway). The QR code is made
// here from the one-time answer (qrcode-generator.js, vendored, MIT): the server keeps no
// password to draw it from. The fetch wrapper, the sign-in, the DOM helpers come from common.js;
// every word from i18n-operators.js (t()), topics named in the page's language from the live IVR,
// everything drawn again when the language changes.

/** A state's sign, shown before its words, so that it never rests on colour alone. */
const SIGNS = { available: "●", ringing: "◔", on_call: "☎", wrap_up: "◑", paused: "❚❚", unreachable: "⚠", logged_out: "○" };
const LEVELS = { 0: () => "—", 1: () => t("ops.level.1"), 2: () => t("ops.level.2"), 3: () => t("ops.level.3") };
const STATE_WORDS = {
  available: () => t("ops.state.available"),
  ringing: () => t("ops.state.ringing"),
  on_call: () => t("ops.state.on_call"),
  wrap_up: () => t("ops.state.wrap_up"),
  paused: () => t("ops.state.paused"),
  unreachable: () => t("ops.state.unreachable"),
  logged_out: () => t("ops.state.logged_out"),
};

const ops = { who: null, list: [], topics: [], timer: 0 };
const REFRESH_MS = 10000; // the states change as people log in and take calls
const ROLES = ["operator", "senior", "shift_lead", "admin"];

// --- Words --------------------------------------------------------------------------------------

/** The languages to show names in: the page's, then English. */
function languages() {
  return [i18n.language, "en"];
}

/** A topic's name in the page's language (its id when the live IVR has no such topic). */
function topicName(id) {
  const topic = ops.topics.find((x) => x.id === id);
  if (!topic) return id;
  const lang = languages().find((l) => topic.names[l]);
  return lang ? topic.names[lang] : Object.values(topic.names)[0] || id;
}

function stateWords(o) {
  const status = o.state.status;
  const [sign, words] = STATE_WORDS[status] ? [SIGNS[status], STATE_WORDS[status]()] : ["?", status];
  const reason = o.state.paused_reason;
  const key = `ops.reason.${reason}`;
  const text = reason ? `${words} (${hasText(key) ? t(key) : reason})` : words;
  return { sign, text };
}

const isOnline = (o) => o.active && o.state.status !== "logged_out";
const canEdit = () => Boolean(ops.who && ops.who.role === "admin");

/** The queues they are in now; logged out, the queues their skills would put them in. */
function queuesText(o) {
  if (o.state.queues.length) return o.state.queues.join(", ");
  const queues = [...new Set(Object.keys(o.skills).map((id) => (ops.topics.find((x) => x.id === id) || {}).queue).filter(Boolean))];
  return queues.length ? t("ops.by_skills", { queues: queues.join(", ") }) : "—";
}

function skillsText(o) {
  const skills = Object.entries(o.skills).sort(([a], [b]) => topicName(a).localeCompare(topicName(b)));
  return skills.length ? skills.map(([id, l]) => `${topicName(id)}: ${l}`).join("; ") : t("ops.no_skill");
}

// --- Filters --------------------------------------------------------------------------------------

function options(select, pairs) {
  const kept = select.value;
  select.replaceChildren(...pairs.map(([value, text]) => element("option", { value, textContent: text })));
  if (pairs.some(([value]) => value === kept)) select.value = kept;
}

function fillFilters() {
  const any = ["", t("ops.any")];
  options($("filter-role"), [any, ...ROLES.map((r) => [r, roleName(r)])]);
  options($("filter-state"), [any, ["online", t("ops.online_now")],
    ...Object.entries(STATE_WORDS).map(([s, words]) => [s, words()])]);
  options($("filter-topic"), [any, ...ops.topics.map((topic) => [topic.id, topicName(topic.id)])]);
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
  td.dataset.label = t(key);
  return td;
}

function stateCell(o) {
  const { sign, text } = stateWords(o);
  const td = labelled("ops.col_state", "", "state");
  td.dataset.state = o.active ? o.state.status : "inactive";
  td.append(element("span", { className: "sign", textContent: sign, ariaHidden: "true" }), ` ${text}`);
  return td;
}

function accountCell(o) {
  const td = labelled("ops.col_account", o.active ? t("ops.active") : t("ops.inactive"));
  if (!o.asterisk.applied) td.append(element("br"), element("small", { textContent: t("ops.waiting", { nodes: Object.keys(o.asterisk.pending).join(", ") }) }));
  return td;
}

function actionButton(label, action, o, run) {
  const button = element("button", { type: "button", textContent: label, className: action });
  button.dataset.action = action;
  button.dataset.id = o.id;
  button.setAttribute("aria-label", `${label}: ${o.display_name} (${o.id})`);
  button.addEventListener("click", () => run(o).catch(fail));
  return button;
}

function actionsCell(o) {
  const td = labelled("ops.col_actions", "", "actions");
  td.append(actionButton(t("ops.edit"), "edit", o, openEdit));
  if (o.active) {
    td.append(actionButton(t("ops.new_credentials"), "credentials", o, resetCredentials),
      actionButton(t("ops.reset_second_factor"), "second-factor", o, resetSecondFactor));
    if (!ops.who || o.id !== ops.who.id) td.append(actionButton(t("ops.deactivate"), "deactivate", o, deactivate));
  } else {
    td.append(actionButton(t("ops.reactivate"), "reactivate", o, reactivate));
  }
  return td;
}

function row(o) {
  const tr = element("tr", { className: o.active ? "" : "gone" });
  tr.dataset.id = o.id;
  const name = labelled("ops.col_name", "", "name");
  name.append(element("strong", { textContent: o.display_name }), " ", element("span", { className: "id", textContent: o.id }));
  tr.append(name, labelled("ops.col_role", roleName(o.role)), stateCell(o), labelled("ops.col_queues", queuesText(o)),
    labelled("ops.col_skills", skillsText(o)), accountCell(o));
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
  $("shown").textContent = t("ops.shown", { n: shown.length, all: ops.list.length });
  if (again && document.querySelector(again)) document.querySelector(again).focus();
  drawOnline();
}

function drawOnline() {
  const online = ops.list.filter(isOnline);
  $("online-count").textContent = t("ops.online", { n: online.length });
  const counts = {};
  for (const o of online) counts[stateWords(o).text] = (counts[stateWords(o).text] || 0) + 1;
  $("online-summary").textContent = online.length
    ? t("ops.by_state", { parts: Object.entries(counts).map(([state, n]) => t("ops.count_state", { n, state })).join(", ") })
    : t("ops.nobody_online");
  $("online").replaceChildren(...online.map((o) => {
    const { sign, text } = stateWords(o);
    const li = element("li", {}, element("span", { className: "sign", textContent: sign, ariaHidden: "true" }), ` ${o.display_name} (${o.id}): ${text}`);
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
  const ids = [...ops.topics.map((x) => x.id), ...Object.keys(skills).filter((id) => !ops.topics.some((x) => x.id === id))];
  fieldset.replaceChildren(legend, ...ids.map((id) => {
    const select = element("select", { name: id });
    options(select, [0, 1, 2, 3].map((l) => [String(l), LEVELS[l]()]));
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
  say(t("ops.added", { id: made.operator.id }), true);
  showSecrets(made);
  await loadList();
}

const editing = { id: "" };

async function openEdit(o) {
  editing.id = o.id;
  $("edit-h").textContent = t("ops.edit_title", { name: o.display_name, id: o.id });
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
  say(t("ops.saved", { id: editing.id }), true);
  await loadList();
}

async function deactivate(o) {
  if (!window.confirm(t("ops.confirm_deactivate", { id: o.id }))) return;
  await api("PATCH", `/api/operators/${encodeURIComponent(o.id)}`, { active: false });
  say(t("ops.deactivated", { id: o.id }), true);
  await loadList();
}

async function reactivate(o) {
  await api("PATCH", `/api/operators/${encodeURIComponent(o.id)}`, { active: true });
  say(t("ops.reactivated", { id: o.id }), true);
  await loadList();
}

async function resetCredentials(o) {
  if (!window.confirm(t("ops.confirm_credentials", { id: o.id }))) return;
  const made = await api("POST", `/api/operators/${encodeURIComponent(o.id)}/credentials`);
  say(t("ops.reset", { id: o.id }), true);
  showSecrets(made);
}

async function resetSecondFactor(o) {
  if (!window.confirm(t("ops.confirm_second_factor", { id: o.id }))) return;
  await api("DELETE", `/api/operators/${encodeURIComponent(o.id)}/second-factor`);
  say(t("ops.second_factor_reset", { id: o.id }), true);
}

// --- The secrets, shown once ---------------------------------------------------------------------------

/** What to type into a softphone, one field a line, labelled. */
function softphoneConfig(s) {
  return [[t("ops.config.server"), s.server], [t("ops.config.port"), s.port], [t("ops.config.transport"), s.transport],
    [t("ops.config.username"), s.username], [t("ops.config.auth_user"), s.username], [t("ops.config.realm"), s.realm],
    [t("ops.config.password"), s.password]].map(([k, v]) => `${k}: ${v}`).join("\n");
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
  const copy = element("button", { type: "button", className: "copy", textContent: t("ops.copy") });
  copy.setAttribute("aria-label", t("ops.copy_what", { what: label }));
  copy.addEventListener("click", () => copyText(text, label));
  return [element("dt", { textContent: label }), element("dd", {}, text, copy)];
}

async function copyText(node, label) {
  try {
    await navigator.clipboard.writeText(node.textContent);
    $("secrets-copied").textContent = t("ops.copied", { what: label });
  } catch (_) { // no clipboard here (or refused): the text is selected for Ctrl+C
    window.getSelection().selectAllChildren(node);
    $("secrets-copied").textContent = t("ops.select_to_copy");
  }
}

function showSecrets(made) {
  const id = made.operator.id, phone = made.softphone, uri = provisioningUri(phone);
  $("secrets-h").textContent = t("ops.secrets_title", { id });
  $("secrets-items").replaceChildren(
    ...secret(t("ops.sign_in_password"), made.password, "secret-password"),
    ...secret(t("ops.api_token"), made.api_token, "secret-api-token"),
    ...secret(t("ops.softphone_config"), softphoneConfig(phone), "secret-softphone", "pre"),
    ...secret(t("ops.provisioning"), uri, "secret-uri"));
  $("secrets-qr").replaceChildren(qrSvg(uri, t("ops.qr_label", { id })));
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

/** Another language: the filters, the add form's skills (their levels kept) and the list again. */
function redraw() {
  if (!ops.who) return;
  fillFilters();
  drawSkills($("add-skills"), skillsOf($("add-skills")));
  drawList();
}

onLanguage(redraw);
$("filters").addEventListener("input", drawList);
$("filters").addEventListener("submit", (ev) => ev.preventDefault());
$("filters").addEventListener("reset", () => setTimeout(drawList, 0)); // after the fields reset
$("add-form").addEventListener("submit", (ev) => { ev.preventDefault(); addPerson().catch(fail); });
$("edit-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveEdit().catch(fail); });
$("edit-cancel").addEventListener("click", () => $("edit").close());
$("secrets-done").addEventListener("click", () => $("secrets").close());
$("secrets").addEventListener("close", forgetSecrets);
signIn({ start: (who) => start(who).catch(fail), onSignOut: stop });
