"use strict";
// Supervision on the operator's page (issue 17, items 1 and 2), loaded after operator.js: "a
// supervisor is listening" (and the mode) while a senior or shift lead hears this operator's
// call (GET /api/supervision's notice; a line may turn it off), and the sessions about this
// operator once they ended: who, when, in which modes. Uses common.js's api(), $(), element()
// and cell(), operator.js's time(), and its words from i18n-operator.js (t(), redrawn on a change
// of language); everything it declares stays inside this function (the scripts share one scope).
(() => {
  const view = { found: null };
  const mode = (family, code) => (hasText(`${family}.${code}`) ? t(`${family}.${code}`) : code);

  function show(found) {
    view.found = found;
    const notice = found.notice;
    $("supervised").hidden = !notice;
    $("supervised").dataset.mode = notice ? notice.mode : "";
    $("supervised").textContent = notice
      ? t("operator.supervision.notice", { mode: mode("operator.mode", notice.mode), time: time(notice.since) })
      : "";
    const rows = found.sessions.filter((s) => s.state === "ended").slice(0, 10);
    $("supervision-card").hidden = rows.length === 0;
    $("supervision-history").replaceChildren(...rows.map((s) => element("tr", {},
      cell(s.supervisor), cell(formatDateTime(s.started_at)),
      cell(time(s.ended_at)), cell(s.modes.map((m) => mode("operator.mode_name", m.mode)).join(", ")))));
  }

  /** Every second once signed in (the desk's own polls run beside it). */
  function follow() {
    const next = () => setTimeout(follow, 1000);
    if ($("desk").hidden) { next(); return; }
    api("GET", "/api/supervision").then(show).catch(() => undefined).finally(next);
  }

  onLanguage(() => { if (view.found) show(view.found); });
  follow();
})();
