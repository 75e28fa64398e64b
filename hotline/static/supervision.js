"use strict";
// Supervision on the operator's page (issue 17, items 1 and 2), loaded after operator.js: "a
// supervisor is listening" (and the mode) while a senior or shift lead hears this operator's
// call (GET /api/supervision's notice; a line may turn it off), and the sessions about this
// operator once they ended: who, when, in which modes. Uses common.js's api(), $(), element()
// and cell(); everything it declares stays inside this function (the scripts share one scope).
(() => {
  const MODES = { listen: "listening", whisper: "listening and may speak to you (whisper)",
    barge: "listening and speaking to you and the caller (barge)" };

  function show(found) {
    const notice = found.notice;
    $("supervised").hidden = !notice;
    $("supervised").dataset.mode = notice ? notice.mode : "";
    $("supervised").textContent = notice
      ? `A supervisor is ${MODES[notice.mode] || notice.mode} (since ${new Date(notice.since).toLocaleTimeString()}).`
      : "";
    const rows = found.sessions.filter((s) => s.state === "ended").slice(0, 10);
    $("supervision-card").hidden = rows.length === 0;
    $("supervision-history").replaceChildren(...rows.map((s) => element("tr", {},
      cell(s.supervisor), cell(new Date(s.started_at).toLocaleString()),
      cell(s.ended_at ? new Date(s.ended_at).toLocaleTimeString() : ""), cell(s.modes.map((m) => m.mode).join(", ")))));
  }

  /** Every second once signed in (the desk's own polls run beside it). */
  function follow() {
    const next = () => setTimeout(follow, 1000);
    if ($("desk").hidden) { next(); return; }
    api("GET", "/api/supervision").then(show).catch(() => undefined).finally(next);
  }

  follow();
})();
