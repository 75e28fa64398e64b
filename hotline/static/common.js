"use strict";
// Shared by the pages, loaded after i18n.js and the catalogues and before each
// page's own script: DOM helpers, the message area, the fetch wrapper (errors are RFC 9457
// problem details), the sign-in (a session cookie, never a token kept in the page), and the
// language picker in the header (a choice kept with the person's account; their account's
// language is taken at sign-in unless the address names one). Every word from the catalogues
// (i18n-common.js). A plain script, no build step, no external assets.

// --- DOM helpers ---------------------------------------------------------------------------

/** The element with this id. */
const $ = (id) => document.getElementById(id);

/** A new HTML element with these properties (textContent, className, value, …) and children. */
function element(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** A table cell showing `text`, with a class when one is given. */
function cell(text, className) {
  const td = element("td", { textContent: String(text) });
  if (className) td.className = className;
  return td;
}

const SVG_NS = "http://www.w3.org/2000/svg"; // a namespace name, never fetched

/** A new SVG element with these attributes, and this text when given. */
function svgElement(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- The message area ----------------------------------------------------------------------

/** Shows `text` in the page's message area (its element of class "message"): as good news
 * when `ok`, as a failure otherwise. */
function say(text, ok) {
  const area = document.querySelector(".message");
  area.textContent = text;
  area.classList.toggle("ok", Boolean(ok));
  area.classList.toggle("bad", !ok);
}

/** What went wrong in the page's language: the catalogue's words for its error_id, else the
 * problem's detail. */
function errorWords(err) {
  const key = `error.${err.error_id}`;
  return err.error_id && hasText(key) ? t(key) : err.message;
}

/** An error in words (errorWords), then where each listed problem lies. */
function describe(err) {
  const details = Array.isArray(err.details) ? err.details : [];
  const where = details.map((d) => (d.where ? `${d.where}: ${d.problem}` : d.message)).join("; ");
  const words = errorWords(err);
  return where ? `${words} (${where})` : words;
}

/** Shows an error in the message area. */
function fail(err) {
  say(describe(err), false);
}

// --- The fetch wrapper ---------------------------------------------------------------------

/** An answer that is not 2xx, from its RFC 9457 problem details (application/problem+json:
 * type, title, status, detail, error_id, and details, a list of {where, problem, message}). */
class ApiError extends Error {
  constructor(status, problem, statusText) {
    super(problem.detail || problem.title || statusText || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.error_id = problem.error_id || null;
    this.detail = problem.detail || "";
    this.details = Array.isArray(problem.details) ? problem.details : [];
    this.problem = problem;
  }
}

/** fetch() on this origin: the session cookie goes along by itself, and a change (anything but
 * GET and HEAD) sends the session's CSRF token. A `body` goes as JSON, or as it is when `type`
 * names its content type; an answer that is not 2xx throws an ApiError. A 401 while signed in
 * means the session has ended: the sign-in form shows again, with why. */
async function request(method, path, { body, type, signal } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  if (session.csrf && method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = session.csrf;
  const payload = body === undefined || type ? body : JSON.stringify(body);
  const res = await fetch(path, { method, headers, body: payload, signal, credentials: "same-origin" });
  if (!res.ok) {
    const problem = await res.json().catch(() => null);
    const err = new ApiError(res.status, problem && typeof problem === "object" ? problem : {}, res.statusText);
    err.retryAfter = Number(res.headers.get("Retry-After")) || 0;
    noticed(err);
    throw err;
  }
  return res;
}

/** request(), then the answer: its JSON, or its text (YAML, CSV) when it is not JSON; null for 204. */
async function api(method, path, body, type) {
  const res = await request(method, path, { body, type });
  if (res.status === 204) return null; // no content, whatever its Content-Type says
  return (res.headers.get("Content-Type") || "").includes("json") ? res.json() : res.text();
}

// --- The sign-in ---------------------------------------------------------------------------

/** A role's name in the page's language. */
function roleName(role) {
  return hasText(`role.${role}`) ? t(`role.${role}`) : role;
}

/** Who is signed in, for the account bar: name (id, role). */
function whoText(w) {
  return `${w.display_name} (${w.id}, ${roleName(w.role)})`;
}

/** An element showing a key's words, kept in the page's language by translatePage(). */
function translated(tag, key, props) {
  const node = element(tag, props || {});
  node.dataset.i18n = key;
  node.textContent = t(key);
  return node;
}

/** Sets a note's text from `words` (a function, so that it is said again in another language;
 * null clears it). */
function keepNote(id, words) {
  session.notes[id] = words || null;
  const node = $(id);
  if (node) node.textContent = words ? words() : "";
}

/** What common.js wrote itself, said again when the language changes. */
function redrawCommon() {
  if (session.who) $("account-name").textContent = whoText(session.who);
  for (const [id, words] of Object.entries(session.notes)) if (words && $(id)) $(id).textContent = words();
}

/** The person chose a language in the header: kept with their account when signed in, and in
 * the address when it names one (a reload keeps the choice). */
function languageChosen(language) {
  const address = new URL(location.href);
  if (address.searchParams.has("lang")) {
    address.searchParams.set("lang", language);
    history.replaceState(history.state, "", address);
  }
  if (session.who) api("PUT", "/api/session/language", { language }).catch(fail);
}

/** Who this page is signed in as: a person (`who`, the session's body) or a kiosk wallboard;
 * the CSRF token of the session; the page's parts and hooks. */
const session = { who: null, kiosk: false, csrf: "", app: "app", start: null, onSignOut: null, probe: null, timer: 0, notes: {} };

/** Whether a person or a kiosk is signed in on this page. */
function isSignedIn() {
  return Boolean(session.who) || session.kiosk;
}

/**
 * The page's sign-in, the same on every page: the form #sign-in (#sign-in-id,
 * #sign-in-password, and #sign-in-code in #sign-in-code-box, shown when the account asks for
 * its authenticator's code; #sign-in-note says what went wrong), the bar #account (#account-name,
 * #change-password, #sign-out). A session already open in this browser is taken up at once.
 * `start(who)` runs once signed in (and its second factor set up); `app`, the id of what shows
 * once the page's first load worked (signedIn()); `onSignOut`, when the session ends; `kiosk`,
 * when given, an async check that this browser is a paired kiosk (the wallboard), asked when
 * nobody is signed in.
 */
function signIn({ start, app = "app", onSignOut, kiosk }) {
  Object.assign(session, { start, app, onSignOut: onSignOut || null, probe: kiosk || null });
  $("sign-in").addEventListener("submit", (ev) => { ev.preventDefault(); submitSignIn(); });
  $("sign-out").addEventListener("click", signOut);
  $("change-password").addEventListener("click", openPasswordDialog);
  translatePage();
  languagePicker(languageChosen);
  onLanguage(redrawCommon);
  resumeSession();
}

/** Takes up the session this browser holds, if any; else a kiosk's; else the form shows. */
async function resumeSession() {
  try {
    enter(await api("GET", "/api/session"));
    return;
  } catch (err) {
    if (!refused(err)) signInNote(() => describe(err));
  }
  if (session.probe && (await session.probe().catch(() => false))) enterKiosk();
  else showParts();
}

async function submitSignIn() {
  const body = { id: $("sign-in-id").value.trim(), password: $("sign-in-password").value };
  const code = $("sign-in-code").value.trim();
  if (code) body.code = code;
  try {
    enter(await api("POST", "/api/session", body));
  } catch (err) {
    signInRefused(err);
  }
}

function signInRefused(err) {
  if (err.error_id === "second_factor_required") {
    $("sign-in-code-box").hidden = false;
    $("sign-in-code").focus();
    signInNote(() => t("signin.code_needed"));
  } else if (err.error_id === "account_locked") {
    const details = err.problem.details || {};
    lockedFor(details.retry_after_seconds || err.retryAfter || 60);
  } else if (err.error_id === "sign_in_throttled") {
    signInNote(() => t("signin.throttled"));
  } else {
    signInNote(() => (err.error_id === "sign_in_failed" ? t("signin.failed") : describe(err)));
  }
  $("sign-in-code").value = "";
}

/** The account waits: the button too, the wait counted down beside it. */
function lockedFor(seconds) {
  const button = $("sign-in").querySelector("button[type=submit]");
  let left = Math.ceil(seconds);
  clearTimeout(session.timer);
  const tick = () => {
    button.disabled = left > 0;
    const now = left;
    signInNote(() => (now > 0 ? t("signin.locked", { n: now }) : t("signin.unlocked")));
    left -= 1;
    if (left >= 0) session.timer = setTimeout(tick, 1000);
  };
  tick();
}

/** Says something next to the sign-in form (its own note: the page's message area may be
 * hidden); `words`, a function giving the text in the page's language, or nothing. */
function signInNote(words) {
  keepNote("sign-in-note", words);
}

/** A person's session: the account bar shows, then the second factor's set-up or the page. */
function enter(who) {
  Object.assign(session, { who, csrf: who.csrf, kiosk: false });
  document.body.classList.remove("kiosk");
  $("sign-in-password").value = "";
  $("sign-in-code").value = "";
  $("sign-in-code-box").hidden = true;
  signInNote(null);
  $("account-name").textContent = whoText(who);
  if (who.language && !new URLSearchParams(location.search).has("lang")) setLanguage(who.language);
  showParts();
  if (who.must_enrol) { enrol(); return; }
  session.start(who);
}

/** A kiosk wallboard: no person, no account bar, no changes (the page hides its buttons). */
function enterKiosk() {
  Object.assign(session, { who: null, csrf: "", kiosk: true });
  document.body.classList.add("kiosk");
  showParts();
  session.start(null);
}

/** The form while nobody is signed in, the account bar while a person is. */
function showParts() {
  $("sign-in").hidden = isSignedIn();
  $("account").hidden = !session.who;
  if (!isSignedIn()) $(session.app).hidden = true;
}

/** The page's first load worked: its app shows. */
function signedIn() {
  $(session.app).hidden = false;
}

/** Ends this page's session (DELETE /api/session) and shows the form. */
async function signOut() {
  if (session.who) await request("DELETE", "/api/session").catch(() => undefined);
  ended(() => t("session.signed_out"));
}

/** The session is over (signed out, expired, revoked): everything of it goes, the form shows. */
function ended(words) {
  if (!isSignedIn()) return;
  Object.assign(session, { who: null, csrf: "", kiosk: false });
  document.body.classList.remove("kiosk");
  const panel = $("enrol"), dialog = $("password-dialog");
  if (panel) panel.hidden = true;
  if (dialog && dialog.open) dialog.close();
  showParts();
  signInNote(words);
  if (session.onSignOut) session.onSignOut();
}

/** What every failed call tells the sign-in: a session ended, or a second factor to set up. */
function noticed(err) {
  if (err.status === 401 && err.error_id === "unauthorized" && isSignedIn()) {
    ended(session.kiosk ? () => t("session.kiosk_ended") : () => t("session.expired"));
  } else if (err.error_id === "second_factor_enrolment_required" && session.who) {
    enrol();
  }
}

/** Whether an error is the API refusing this page's caller (not signed in, or not their role). */
function refused(err) {
  return err.status === 401 || err.status === 403;
}

/** A refusal of the page's first load: a role the page is not for is said in the message area
 * (the account bar stays, to sign out); an ended session shows the form already. */
function turnedAway(err) {
  if (err.status === 403 && session.who) say(t("session.not_for_role", { detail: err.message }), false);
}

// --- The second factor's set-up, when the line requires one of this role ----------------------

function enrolPanel() {
  if ($("enrol")) return $("enrol");
  const code = element("input", { id: "enrol-code", inputMode: "numeric", autocomplete: "one-time-code", maxLength: 12, required: true });
  const form = element("form", { id: "enrol-form", className: "row" },
    element("label", {}, translated("span", "enrol.code"), " ", code),
    translated("button", "enrol.confirm", { type: "submit", className: "primary" }));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); confirmEnrolment(); });
  const panel = element("section", { id: "enrol", className: "enrol", hidden: true },
    translated("h2", "enrol.title"),
    translated("p", "enrol.why", { className: "hint" }),
    element("dl", {},
      translated("dt", "enrol.key"), element("dd", {}, element("code", { id: "enrol-secret" })),
      translated("dt", "enrol.uri"), element("dd", {}, element("code", { id: "enrol-uri" }))),
    form,
    element("p", { id: "enrol-note", className: "note", role: "alert" }));
  document.querySelector("header").after(panel);
  return panel;
}

/** Shows the panel with a new key for the app (once: a second call keeps the key shown). */
async function enrol() {
  const panel = enrolPanel();
  if (!panel.hidden) return;
  panel.hidden = false;
  $(session.app).hidden = true;
  keepNote("enrol-note", null);
  try {
    const made = await api("POST", "/api/session/second-factor");
    $("enrol-secret").textContent = made.secret;
    $("enrol-uri").textContent = made.uri;
    $("enrol-code").focus();
  } catch (err) {
    keepNote("enrol-note", () => describe(err));
  }
}

async function confirmEnrolment() {
  try {
    const who = await api("PUT", "/api/session/second-factor", { code: $("enrol-code").value.trim() });
    $("enrol").hidden = true;
    $("enrol-code").value = "";
    enter(who);
    say(t("enrol.done"), true);
  } catch (err) {
    keepNote("enrol-note", () => (err.error_id === "sign_in_failed" ? t("enrol.wrong") : describe(err)));
  }
}

// --- One's own password -----------------------------------------------------------------------

function passwordDialog() {
  if ($("password-dialog")) return $("password-dialog");
  const field = (id, key, autocomplete) => element("label", {}, translated("span", key),
    element("input", { id, type: "password", autocomplete, required: true, maxLength: 256 }));
  const cancel = translated("button", "common.cancel", { type: "button" });
  const form = element("form", { id: "password-form" },
    translated("h2", "password.title"),
    field("password-current", "password.current", "current-password"),
    field("password-new", "password.new", "new-password"),
    field("password-repeat", "password.repeat", "new-password"),
    element("p", { id: "password-note", className: "note", role: "alert" }),
    element("div", { className: "row" },
      translated("button", "password.save", { type: "submit", className: "primary" }), cancel));
  const dialog = element("dialog", { id: "password-dialog", className: "password" }, form);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); changePassword(); });
  cancel.addEventListener("click", () => dialog.close());
  document.body.append(dialog);
  return dialog;
}

function openPasswordDialog() {
  const dialog = passwordDialog();
  for (const id of ["password-current", "password-new", "password-repeat"]) $(id).value = "";
  keepNote("password-note", null);
  dialog.showModal();
}

async function changePassword() {
  if ($("password-new").value !== $("password-repeat").value) {
    keepNote("password-note", () => t("password.differ"));
    return;
  }
  try {
    await api("PUT", "/api/session/password", { current: $("password-current").value, new: $("password-new").value });
    $("password-dialog").close();
    say(t("password.changed"), true);
  } catch (err) {
    const keys = { weak_password: "password.weak", sign_in_failed: "password.wrong" };
    keepNote("password-note", () => (keys[err.error_id] ? t(keys[err.error_id]) : describe(err)));
  }
}
