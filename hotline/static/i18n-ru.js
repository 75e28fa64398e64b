"use strict";
// Русский. Strict JSON inside (tests/hotline/test_i18n.py reads it).
catalogue("ru", {
  "language.label": "Язык"
});
