"use strict";
// English: the catalogue every key must have (tests/hotline/test_i18n.py). Strict JSON inside.
catalogue("en", {
  "language.label": "Language"
});
