"use strict";
// The words every page shares, in Russian, Polish and English. Each page's own words are in
// i18n-<page>.js beside it. Strict JSON inside each call (tests/hotline/test_i18n.py reads it).
catalogue("ru", {
  "language.label": "Язык"
});
catalogue("pl", {
  "language.label": "Język"
});
catalogue("en", {
  "language.label": "Language"
});
