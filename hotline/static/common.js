"use strict";
// Shared by the five pages (admin, operator, wallboard, reports, planning), loaded before each
// page's own script: DOM helpers, the message area, the fetch wrapper (errors are RFC 9457
// problem details), the token sign-in. A plain script, no build step, no external assets.

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

/** An error in words: the problem's detail, then where each listed problem lies. */
function describe(err) {
  const details = Array.isArray(err.details) ? err.details : [];
  const where = details.map((d) => (d.where ? `${d.where}: ${d.problem}` : d.message)).join("; ");
  return where ? `${err.message} (${where})` : err.message;
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

/** fetch() with this tab's token as a bearer token. A `body` goes as JSON, or as it is when
 * `type` names its content type; an answer that is not 2xx throws an ApiError. */
async function request(method, path, { body, type, signal } = {}) {
  const headers = { Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const payload = body === undefined || type ? body : JSON.stringify(body);
  const res = await fetch(path, { method, headers, body: payload, signal });
  if (!res.ok) {
    const problem = await res.json().catch(() => null);
    throw new ApiError(res.status, problem && typeof problem === "object" ? problem : {}, res.statusText);
  }
  return res;
}

/** request(), then the answer: its JSON, or its text (YAML, CSV) when it is not JSON. */
async function api(method, path, body, type) {
  const res = await request(method, path, { body, type });
  return (res.headers.get("Content-Type") || "").includes("json") ? res.json() : res.text();
}

// --- The sign-in ---------------------------------------------------------------------------

/** This tab's sign-in: the token, the sessionStorage key it is kept under, the page's parts. */
const session = { token: "", key: "hotline-token", parts: {}, onSignOut: null };

/**
 * The page's token sign-in. The token is typed into #token and kept in this tab's
 * sessionStorage under `key` (never in a URL nor a cookie); request() sends it. `start` runs on
 * sign-in, and at once when this tab holds a token already. The page's parts, by id: `form`
 * (submitted to sign in) or `button` (clicked to sign in); `app`, shown once signed in; `login`
 * and `logout`, when given, shown only while signed out or in. `onSignOut` runs on signOut().
 */
function signIn({ start, form, button, app = "app", login, logout, key = "hotline-token", onSignOut }) {
  Object.assign(session, { key, token: sessionStorage.getItem(key) || "", parts: { app, login, logout }, onSignOut });
  const enter = () => {
    session.token = $("token").value.trim();
    sessionStorage.setItem(key, session.token);
    start();
  };
  if (form) $(form).addEventListener("submit", (ev) => { ev.preventDefault(); enter(); });
  if (button) $(button).addEventListener("click", enter);
  if (logout) $(logout).addEventListener("click", signOut);
  if (session.token) { $("token").value = session.token; start(); }
}

function showSignedIn(yes) {
  const { app, login, logout } = session.parts;
  $(app).hidden = !yes;
  if (login) $(login).hidden = yes;
  if (logout) $(logout).hidden = !yes;
}

/** The API took the token: the page's app shows. */
function signedIn() {
  showSignedIn(true);
}

/** Forgets the token and hides the page's app. */
function signOut() {
  sessionStorage.removeItem(session.key);
  session.token = "";
  showSignedIn(false);
  if (session.onSignOut) session.onSignOut();
}

/** Whether an error is the API refusing this token (unknown, or without the role needed). */
function refused(err) {
  return err.status === 401 || err.status === 403;
}
