"use strict";
// The IVR editor (issue 19, item 2), for admins: the draft as a tree (the menu's nodes, each with
// its keys and what they do, nested along the callers' paths; then topics, queues, schedules,
// referrals and prompts), each problem of validation at its place in the tree and in a list that
// leads there; a form for the chosen item (ivr-forms.js) saved with
// PUT /api/ivr/draft/{section}/{id}; a caller simulated on the draft, the changes against the live
// version reviewed and published from that review only (ivr-review.js). The admin page keeps the
// whole document as YAML. The fetch wrapper, the sign-in and the DOM helpers come from common.js;
// every word from i18n-ivr.js (t()); topics named in the page's language from the draft.

/** What the page holds: the draft and its problems, the open item, the last review and run. */
const ed = { doc: null, issues: [], silence: null, open: null, review: null, sim: null, versions: [], collapsed: new Set(), focus: null };
/** The form of each section, filled by ivr-forms.js: {section: (data, id) => {fields, collect}}. */
const FORMS = {};
/** What ivr-review.js (simulation, review and publishing) does when the draft is drawn, when it
 * changes (its review goes stale), and when the language changes. */
const HOOKS = { drawn: [], changed: [], redraw: [] };
const SECTIONS = ["nodes", "topics", "queues", "schedules", "referrals", "prompts"];
const ACTIONS = ["submenu", "topic", "referral", "operator", "language", "repeat", "back"];
const DIGIT_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"];

// --- The document ---------------------------------------------------------------------------------

/** The ids of a section's items, in the document's order. */
function itemIds(section) {
  const doc = ed.doc;
  if (section === "nodes") return Object.keys(doc.menu.nodes);
  if (section === "prompts") return Object.keys(doc.prompts || {});
  if (section === "queues") return doc.queues.map((q) => q.name);
  return (doc[section] || []).map((x) => x.id);
}

/** One item's data as the draft holds it (undefined when there is none). */
function itemData(section, id) {
  const doc = ed.doc;
  if (section === "nodes") return doc.menu.nodes[id];
  if (section === "prompts") return (doc.prompts || {})[id];
  if (section === "queues") return doc.queues.find((q) => q.name === id);
  return (doc[section] || []).find((x) => x.id === id);
}

/** A name in the page's language from a {language: name} map, else the document's default's. */
function localName(names, fallback) {
  const map = names || {};
  const lang = [i18n.language, ed.doc && ed.doc.default_language, "en"].find((l) => l && map[l]);
  return lang ? map[lang] : Object.values(map)[0] || fallback;
}

function topicLabel(id) {
  const topic = itemData("topics", id);
  return topic ? localName(topic.names, id) : id;
}

/** A language's name in the page's language (ru → «русский», Polish → "rosyjski"). */
function languageName(code) {
  try {
    return new Intl.DisplayNames([locale()], { type: "language" }).of(code) || code;
  } catch (err) {
    return code;
  }
}

/** A prompt's text in a language from the draft (its id when it has none there). */
function promptText(id, lang) {
  const sources = (ed.doc.prompts || {})[id] || {};
  const source = sources[lang] || sources[ed.doc.default_language] || {};
  return source.text || id;
}

/** What an action does, in words: "topic Loss", "submenu violence", "operator". */
function actionWords(action) {
  if (!action) return "–";
  const kind = action.action;
  const params = {
    node: action.node || action.next || "", topic: action.topic ? topicLabel(action.topic) : "",
    referral: action.referral || "", queue: action.queue || "", language: action.language ? languageName(action.language) : "",
  };
  if (kind === "operator" && action.queue) return t("ivr.act.operator_queue", params);
  return hasText(`ivr.act.${kind}`) ? t(`ivr.act.${kind}`, params) : kind;
}

function keyWords(key) {
  if (key === "no_input") return t("ivr.no_input");
  if (key === "invalid") return t("ivr.invalid");
  return t("ivr.key", { key });
}

// --- Where a problem lies -------------------------------------------------------------------------

const PREFIXES = { node: "nodes", topic: "topics", queue: "queues", referral: "referrals", prompt: "prompts", schedule: "schedules" };
const LABELS = { "no-input": "no_input", "invalid input": "invalid" };

/** The tree's place of a problem's `where` ("language > root, option 2" → nodes/root/2,
 * "topic crisis, overflow" → topics/crisis, "prompt welcome (en)" → prompts/welcome); null for
 * the document as a whole (fallback_queue, summary, …). */
function placeOf(where) {
  const [base, label] = splitOnce(where, ", ");
  const [word, rest] = splitOnce(base, " ");
  if (PREFIXES[word] && rest && !base.includes(" > ")) {
    const section = PREFIXES[word];
    const id = rest.replace(/\s*\(.*\)$/, "");
    if (section !== "nodes" || !label) return itemData(section, id) !== undefined ? `${section}/${id}` : null;
    return optionPlace(id, label);
  }
  const node = base.split(" > ").pop();
  if (!ed.doc || !ed.doc.menu.nodes[node]) return null;
  return label ? optionPlace(node, label) : `nodes/${node}`;
}

function optionPlace(node, label) {
  const option = label.match(/^option (.+)$/);
  const key = option ? option[1] : LABELS[label];
  return key ? `nodes/${node}/${key}` : `nodes/${node}`;
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** The problems of each place, and of the places under it (a node's options are under it). */
function problemsByPlace() {
  const by = {};
  for (const issue of ed.issues) {
    const place = placeOf(issue.where);
    if (place) (by[place] = by[place] || []).push(issue);
  }
  return by;
}

// --- The tree ---------------------------------------------------------------------------------------

/** The menu as callers walk it: each node under the option that first leads to it (breadth
 * first from the entry, as validation names paths); nodes no path reaches at the end. */
function menuShape() {
  const nodes = ed.doc.menu.nodes;
  const under = {}; // node id -> "parent/key" where it hangs
  const seen = new Set([ed.doc.menu.entry]);
  const todo = nodes[ed.doc.menu.entry] ? [ed.doc.menu.entry] : [];
  while (todo.length) {
    const current = todo.shift();
    for (const [key, action] of nodeActions(nodes[current])) {
      const target = action && (action.action === "submenu" ? action.node : action.action === "language" ? action.next : null);
      if (target && nodes[target] && !seen.has(target)) {
        seen.add(target);
        under[`${current}/${key}`] = target;
        todo.push(target);
      }
    }
  }
  const loose = Object.keys(nodes).filter((id) => !seen.has(id));
  return { under, roots: [...(nodes[ed.doc.menu.entry] ? [ed.doc.menu.entry] : []), ...loose] };
}

/** A node's keys with their actions, then silence and wrong keys. */
function nodeActions(node) {
  return [...keypadOrder(node.options), ["no_input", node.no_input], ["invalid", node.invalid]];
}

/** A node's options in the keypad's order (1…9, 0, *, #), as the document lists them; a script's
 * object would put 0 first. */
function keypadOrder(options) {
  return Object.entries(options || {}).sort(([a], [b]) => DIGIT_KEYS.indexOf(a) - DIGIT_KEYS.indexOf(b));
}

/** A tree item: `place` names it (nodes/root, nodes/root/3, topics/crisis, group/topics). */
function treeItem(place, label, children, problems) {
  const li = element("li", { role: "treeitem", id: `ti-${place}`, tabIndex: -1 });
  li.dataset.place = place;
  const words = element("span", { className: "label", id: `tl-${place}`, textContent: label });
  li.append(words); // its name from its content: what it shows, its problems, its branch
  if (problems && problems.length) {
    li.classList.add("faulty");
    const mark = element("span", { className: "mark", id: `tm-${place}` },
      element("span", { className: "sign", textContent: "⚠", ariaHidden: "true" }), ` ${t("ivr.problems_here", { n: problems.length })}`);
    const texts = element("ul", { className: "here", id: `tp-${place}` },
      ...problems.map((p) => element("li", { textContent: p.problem })));
    words.after(mark, texts);
  }
  li.setAttribute("aria-selected", String(place === ed.open || place === ed.openOption));
  if (children && children.length) {
    const open = !ed.collapsed.has(place);
    li.setAttribute("aria-expanded", String(open));
    li.append(element("ul", { role: "group", hidden: !open }, ...children));
  }
  return li;
}

function nodeItem(id, shape, by) {
  const node = ed.doc.menu.nodes[id];
  const options = nodeActions(node).map(([key, action]) => {
    const place = `nodes/${id}/${key}`;
    const child = shape.under[`${id}/${key}`];
    const below = child ? [nodeItem(child, shape, by)] : [];
    return treeItem(place, `${keyWords(key)} → ${actionWords(action)}`, below, by[place]);
  });
  const entry = id === ed.doc.menu.entry ? ` (${t("ivr.entry")})` : "";
  const silent = ed.silence && id in ed.silence.by_node
    ? ` · ${t("ivr.silent_from", { s: formatNumber(ed.silence.by_node[id], 1) })}` : "";
  const label = `${t("ivr.node", { id })}${entry}: «${promptText(node.prompt, i18n.language)}»${silent}`;
  return treeItem(`nodes/${id}`, label, options, by[`nodes/${id}`]);
}

function sectionItems(section, by) {
  const items = itemIds(section).map((id) => {
    const name = section === "topics" ? `${topicLabel(id)} (${id})` : id;
    return treeItem(`${section}/${id}`, name, [], by[`${section}/${id}`]);
  });
  items.push(treeItem(`new/${section}`, t("ivr.add_item"), []));
  return items;
}

function drawTree() {
  const by = problemsByPlace();
  const shape = menuShape();
  const menu = shape.roots.map((id) => nodeItem(id, shape, by));
  menu.push(treeItem("new/nodes", t("ivr.add_item"), []));
  const groups = SECTIONS.map((section) => treeItem(`group/${section}`, t(`ivr.section.${section}`),
    section === "nodes" ? menu : sectionItems(section, by)));
  $("tree").replaceChildren(...groups);
  const focus = (ed.focus && $(`ti-${ed.focus}`)) || $("tree").querySelector("[role=treeitem]");
  if (focus) focus.tabIndex = 0;
  const n = ed.issues.length;
  const silence = ed.silence ? ` ${t(ed.silence.seconds > ed.silence.limit ? "ivr.silent_over" : "ivr.silent_within",
    { s: formatNumber(ed.silence.seconds, 1), limit: ed.silence.limit })}` : "";
  $("summary").textContent = (n ? t("ivr.summary_problems", { n }) : t("ivr.summary_valid")) + silence;
  $("summary").className = n ? "bad" : "ok";
}

/** The items a person can reach now (none inside a closed branch). */
function visibleItems() {
  return [...$("tree").querySelectorAll("[role=treeitem]")].filter((li) => !li.closest("[role=group][hidden]"));
}

function focusItem(li) {
  if (!li) return;
  for (const other of $("tree").querySelectorAll("[role=treeitem][tabindex='0']")) other.tabIndex = -1;
  li.tabIndex = 0;
  ed.focus = li.dataset.place;
  li.focus();
}

function toggle(li, open) {
  if (!li.hasAttribute("aria-expanded")) return false;
  const place = li.dataset.place;
  if (open) ed.collapsed.delete(place); else ed.collapsed.add(place);
  li.setAttribute("aria-expanded", String(open));
  li.querySelector(":scope > [role=group]").hidden = !open;
  return true;
}

/** The tree's keys (WAI-ARIA tree view): up and down, right opens or goes in, left closes or
 * goes out, Home and End, Enter or Space opens the item's form. */
function treeKey(ev) {
  const li = ev.target.closest("[role=treeitem]");
  if (!li) return;
  const items = visibleItems();
  const at = items.indexOf(li);
  const open = li.getAttribute("aria-expanded");
  const moves = {
    ArrowDown: () => focusItem(items[at + 1]),
    ArrowUp: () => focusItem(items[at - 1]),
    Home: () => focusItem(items[0]),
    End: () => focusItem(items[items.length - 1]),
    ArrowRight: () => (open === "false" ? toggle(li, true) : open === "true" && focusItem(items[at + 1])),
    ArrowLeft: () => (open === "true" ? toggle(li, false) : focusItem(li.parentElement.closest("[role=treeitem]"))),
    Enter: () => choose(li.dataset.place),
    " ": () => choose(li.dataset.place),
  };
  if (!moves[ev.key]) return;
  ev.preventDefault();
  moves[ev.key]();
}

function treeClick(ev) {
  const li = ev.target.closest("[role=treeitem]");
  if (!li) return;
  focusItem(li);
  choose(li.dataset.place);
}

/** Opens the form of a place: a group opens or closes, an option opens its node's form there. */
function choose(place) {
  const [kind, id, key] = place.split("/");
  if (kind === "group") {
    const li = $(`ti-${place}`);
    toggle(li, li.getAttribute("aria-expanded") !== "true");
    return;
  }
  if (kind === "new") { openNew(id); return; }
  openItem(kind, id, key);
}

/** Shows a place in the tree: its branches open, focused, its form open. */
function reveal(place) {
  let li = $(`ti-${place}`);
  for (let up = li && li.parentElement.closest("[role=treeitem]"); up; up = up.parentElement.closest("[role=treeitem]")) toggle(up, true);
  focusItem(li);
  choose(place);
}

// --- The problems list ------------------------------------------------------------------------------

function drawProblems() {
  $("problems-none").hidden = ed.issues.length > 0;
  $("problems").replaceChildren(...ed.issues.map((issue) => {
    const place = placeOf(issue.where);
    const sign = element("span", { className: "sign", textContent: "⚠ ", ariaHidden: "true" });
    if (!place) return element("li", {}, sign, issue.message);
    const go = element("button", { type: "button", className: "link", textContent: issue.where });
    go.addEventListener("click", () => reveal(place));
    return element("li", {}, sign, go, `: ${issue.problem}`);
  }));
}

// --- The form of an item ----------------------------------------------------------------------------

function formTitle() {
  const open = ed.open;
  if (!open) return t("ivr.form_none");
  const [section, id] = open.split("/");
  if (section === "new") return t("ivr.form_new", { section: t(`ivr.section.${id}`) });
  return t(`ivr.form.${section}`, { id: section === "topics" ? topicLabel(id) : id });
}

function openItem(section, id, key) {
  const data = itemData(section, id);
  if (data === undefined) return;
  ed.open = `${section}/${id}`;
  ed.openOption = key ? `${section}/${id}/${key}` : null;
  const built = FORMS[section](JSON.parse(JSON.stringify(data)), id);
  showForm(built, true);
  markSelected();
  if (key) {
    const row = $("item-fields").querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (row) { row.scrollIntoView({ block: "nearest" }); row.querySelector("select, input").focus(); }
  } else {
    $("form-h").focus();
  }
}

function openNew(section) {
  ed.open = `new/${section}`;
  ed.openOption = null;
  showForm(FORMS.create(section), false);
  markSelected();
  $("item-fields").querySelector("input").focus();
}

function showForm(built, deletable) {
  ed.form = built;
  $("form-h").removeAttribute("data-i18n");
  $("form-h").textContent = formTitle();
  $("item-fields").replaceChildren(...built.fields);
  $("item-form").hidden = false;
  $("item-delete").hidden = !deletable;
  drawItemIssues();
}

function markSelected() {
  for (const li of $("tree").querySelectorAll("[role=treeitem]")) {
    li.setAttribute("aria-selected", String(li.dataset.place === ed.open || li.dataset.place === ed.openOption));
  }
}

/** The open item's problems under its form (its options' too). */
function drawItemIssues(extra) {
  const open = ed.open || "";
  const mine = ed.issues.filter((i) => { const p = placeOf(i.where) || ""; return p === open || p.startsWith(`${open}/`); });
  const lines = [...(extra || []), ...mine.map((i) => i.message)];
  $("item-issues").replaceChildren(...lines.map((text) => element("li", {},
    element("span", { className: "sign", textContent: "⚠ ", ariaHidden: "true" }), text)));
}

/** The draft's answer to a change: its problems drawn everywhere. */
function took(result) {
  ed.issues = result.issues;
  for (const hook of HOOKS.changed) hook();
}

async function saveItem() {
  const form = $("item-form");
  if (!form.checkValidity()) {
    form.reportValidity();
    say(t("ivr.form_invalid"), false);
    return;
  }
  const [section, id] = ed.form.target ? ed.form.target() : ed.open.split("/");
  let value;
  try {
    value = ed.form.collect();
  } catch (err) {
    drawItemIssues([err.message]);
    say(err.message, false);
    return;
  }
  try {
    const body = ed.form.json ? ed.form.json(value) : JSON.stringify(value);
    took(await api("PUT", `/api/ivr/draft/${section}/${encodeURIComponent(id)}`, body, "application/json"));
  } catch (err) {
    drawItemIssues(err.details.map((d) => d.message || `${d.where}: ${d.problem}`));
    say(errorText(err), false);
    return;
  }
  await loadDraft();
  const place = `${section}/${id}`;
  say(ed.issues.length ? t("ivr.saved_problems", { n: ed.issues.length }) : t("ivr.saved_valid"), !ed.issues.length);
  if (ed.open !== place || ed.openOption) openItem(section, id, ed.openOption ? ed.openOption.split("/")[2] : undefined);
  else drawItemIssues();
}

async function deleteItem() {
  const [section, id] = ed.open.split("/");
  if (!window.confirm(t("ivr.confirm_delete", { id }))) return;
  took(await api("DELETE", `/api/ivr/draft/${section}/${encodeURIComponent(id)}`));
  ed.open = null;
  $("item-form").hidden = true;
  $("form-h").textContent = formTitle();
  await loadDraft();
  say(t("ivr.deleted", { id }), true);
}

/** An error's words: the page's for the IVR's own error_ids, else common.js's. */
function errorText(err) {
  const key = `ivr.error.${err.error_id}`;
  return err.error_id && hasText(key) ? t(key) : describe(err);
}

// --- Loading and the language -----------------------------------------------------------------------

async function loadDraft() {
  const draft = await api("GET", "/api/ivr/draft");
  ed.doc = draft.document;
  ed.issues = draft.issues;
  ed.silence = draft.silence; // how long a caller who presses nothing takes, from each menu
  drawAll();
}

async function loadVersions() {
  ed.versions = await api("GET", "/api/ivr/versions");
  drawLive();
}

function drawLive() {
  const active = ed.versions.find((v) => v.active);
  $("live").textContent = t("ivr.live", { version: active ? active.number : "–" });
}

function drawAll() {
  drawTree();
  drawProblems();
  for (const hook of HOOKS.drawn) hook();
  if (ed.open && !ed.open.startsWith("new/") && $("item-form").hidden === false) drawItemIssues();
}

async function start() {
  try {
    await loadVersions();
  } catch (err) {
    if (refused(err)) { turnedAway(err); return; }
    throw err;
  }
  await loadDraft();
  signedIn();
  say(ed.issues.length ? t("ivr.summary_problems", { n: ed.issues.length }) : t("ivr.summary_valid"), !ed.issues.length);
}

/** Another language: what the scripts drew is drawn again in it (a form keeps what was typed). */
function redraw() {
  if (!isSignedIn() || !ed.doc) return;
  drawAll();
  drawLive();
  for (const hook of HOOKS.redraw) hook();
  if (ed.open) $("form-h").textContent = formTitle();
  markSelected();
}

function run(action) {
  return (ev) => {
    if (ev && ev.preventDefault) ev.preventDefault();
    action().catch((err) => say(errorText(err), false));
  };
}

$("tree").addEventListener("keydown", treeKey);
$("tree").addEventListener("click", treeClick);
$("item-form").addEventListener("submit", run(saveItem));
$("item-delete").addEventListener("click", run(deleteItem));
onLanguage(redraw);
signIn({ start: () => start().catch((err) => say(errorText(err), false)) });
