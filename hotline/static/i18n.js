"use strict";
// The pages' languages (issue 19): Russian, Polish and English from catalogues, never a string
// in code. Loaded first, then the catalogues (i18n-common.js and the page's i18n-<page>.js,
// each calling catalogue() once per language), then common.js and the page's scripts. A plain
// script, no build step.
//
// - t("key", {name: value}) is the text of a key in the page's language; {name} is replaced.
//   A key whose value is an object is a plural: t("calls.count", {n: 3}) picks the CLDR form
//   (one, few, many, other) for n in the language.
// - In HTML, data-i18n="key" sets an element's text; data-i18n-placeholder, -aria-label,
//   -title and -value set those attributes. translatePage() applies them (at load, and again
//   when the language changes).
// - The language: ?lang= in the address, else the person's choice kept with their account
//   (set by common.js after sign-in), else the browser's first of ru, pl, en; English last.
// - Numbers, percentages, durations and times are formatted for the language (Intl).
// tests/hotline/test_i18n.py fails on a key missing from a catalogue or on text in a page's
// HTML that no key covers.

const LANGUAGES = ["ru", "pl", "en"];
const LANGUAGE_NAMES = { ru: "Русский", pl: "Polski", en: "English" };
const i18n = { language: "en", listeners: [] };

/** Adds words to a language's catalogue (each i18n-*.js calls it once per language). */
function catalogue(language, entries) {
  const books = (i18n.catalogues = i18n.catalogues || {});
  books[language] = Object.assign(books[language] || {}, entries);
}

/** The language this page starts in: ?lang=, else the browser's first one we speak. */
function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (LANGUAGES.includes(asked)) return asked;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

/** The text of `key` in the page's language (English when a catalogue lacks it, then the key). */
function t(key, params) {
  const books = i18n.catalogues || {};
  let value = (books[i18n.language] || {})[key];
  if (value === undefined) value = (books.en || {})[key];
  if (value === undefined) return key;
  if (typeof value === "object") {
    const n = params && typeof params.n === "number" ? params.n : 0;
    const form = new Intl.PluralRules(i18n.language).select(n);
    value = value[form] !== undefined ? value[form] : value.other;
  }
  return String(value).replace(/\{(\w+)\}/g, (whole, name) =>
    params && params[name] !== undefined ? String(params[name]) : whole,
  );
}

/** Whether the catalogue has this key (e.g. an API error_id with its own words). */
function hasText(key) {
  const books = i18n.catalogues || {};
  return (books[i18n.language] || {})[key] !== undefined || (books.en || {})[key] !== undefined;
}

const ATTRIBUTES = ["placeholder", "aria-label", "title", "value"];

/** Applies data-i18n* attributes under `root` (the whole page by default). */
function translatePage(root) {
  const scope = root || document;
  for (const node of scope.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attribute of ATTRIBUTES) {
    for (const node of scope.querySelectorAll(`[data-i18n-${attribute}]`)) {
      node.setAttribute(attribute, t(node.getAttribute(`data-i18n-${attribute}`)));
    }
  }
  if (!root) {
    document.documentElement.lang = i18n.language;
    const title = document.querySelector("title[data-i18n]");
    if (title) document.title = t(title.dataset.i18n);
  }
}

/** Switches the page's language now; `onLanguage` listeners redraw what scripts wrote. */
function setLanguage(language) {
  if (!LANGUAGES.includes(language) || language === i18n.language) return;
  i18n.language = language;
  translatePage();
  const picker = document.getElementById("language");
  if (picker) picker.value = language;
  for (const listener of i18n.listeners) listener(language);
}

/** Runs `redraw` each time the language changes (a page's dynamic parts). */
function onLanguage(redraw) {
  i18n.listeners.push(redraw);
}

// --- Formats for the language ----------------------------------------------------------------

function locale() {
  return { ru: "ru-RU", pl: "pl-PL", en: "en-GB" }[i18n.language];
}

/** A number with the language's separators; `digits` after the point at most. */
function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

/** A share (0..1) as a percentage. */
function formatPercent(share, digits = 0) {
  if (share === null || share === undefined || Number.isNaN(share)) return "–";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: digits }).format(share);
}

/** Seconds as m:ss (h:mm:ss from an hour). */
function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const whole = Math.round(Math.max(0, seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A time (ISO text or Date) in the language, in `timeZone` when given (else the browser's). */
function formatDateTime(value, timeZone, options) {
  if (!value) return "–";
  const date = value instanceof Date ? value : new Date(value);
  const shape = options || { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat(locale(), timeZone ? { ...shape, timeZone } : shape).format(date);
}

/** The language picker in a page's header (an element with id "language-box"), if it has one. */
function languagePicker(onChosen) {
  const box = document.getElementById("language-box");
  if (!box || document.getElementById("language")) return;
  const label = document.createElement("label");
  const words = document.createElement("span");
  words.dataset.i18n = "language.label";
  words.textContent = t("language.label");
  label.append(words, " ");
  const select = document.createElement("select");
  select.id = "language";
  for (const code of LANGUAGES) select.append(new Option(LANGUAGE_NAMES[code], code));
  select.value = i18n.language;
  select.addEventListener("change", () => {
    setLanguage(select.value);
    if (onChosen) onChosen(select.value);
  });
  label.append(select);
  box.append(label);
}

i18n.language = initialLanguage();
