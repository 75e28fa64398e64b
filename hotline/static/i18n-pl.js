"use strict";
// Polski. Strict JSON inside (tests/hotline/test_i18n.py reads it).
catalogue("pl", {
  "language.label": "Język"
});
