"use strict";
// The operator's debrief requests (issue 17, item 3), loaded after operator.js (whose `state`
// and `desk` it reads): ask a shift lead for a debrief after a heavy call, about the last call
// the desk showed (its record id, never a number) and with a short note (the server refuses
// personal data in it). When the burnout guard's recovery pause starts, its notice suggests a
// debrief and the page offers one click to ask; asking stays the operator's choice. Everything
// it declares stays inside this function: the page's other scripts share the global scope.
(() => {
  const debrief = { lastCall: null, open: null, last: null, dismissed: "" };

  function suggestion() {
    const notices = (state.me && state.me.state.notices) || [];
    return notices.find((n) => n.suggest_debrief) || null;
  }

  function drawDebrief() {
    if (desk.call && desk.call.record_id) debrief.lastCall = desk.call.record_id;
    const open = debrief.open, suggested = suggestion();
    $("debrief-suggest").hidden = !suggested || open !== null || debrief.dismissed === suggested.at;
    $("debrief-form").hidden = open !== null;
    $("debrief-call").disabled = !debrief.lastCall;
    if (!debrief.lastCall) $("debrief-call").checked = false;
    const box = $("debrief-state");
    box.dataset.state = open ? open.state : "none";
    if (open && open.state === "started") box.textContent = t("operator.debrief.started", { who: open.started_by, time: time(open.started_at) });
    else if (open) box.textContent = t("operator.debrief.asked", { time: time(open.requested_at) });
    else if (debrief.last) box.textContent = t("operator.debrief.closed", { who: debrief.last.closed_by, time: time(debrief.last.closed_at) });
    else box.textContent = "";
  }

  async function loadDebriefs() {
    if (!state.me) return;
    const mine = await api("GET", `/api/operators/${state.me.id}/debriefs`);
    debrief.open = mine.find((d) => d.state !== "closed") || null;
    debrief.last = mine.find((d) => d.state === "closed") || null;
    drawDebrief();
  }

  async function askDebrief(suggested) {
    const body = { suggested };
    const note = $("debrief-note").value.trim();
    if (note) body.note = note;
    if ($("debrief-call").checked && debrief.lastCall) body.record_id = debrief.lastCall;
    try {
      await api("POST", `/api/operators/${state.me.id}/debriefs`, body);
      $("debrief-note").value = "";
      say(t("operator.debrief.asked_now"), true);
      await loadDebriefs();
    } catch (err) { fail(err); }
  }

  $("debrief-form").addEventListener("submit", (ev) => { ev.preventDefault(); askDebrief(false); });
  $("debrief-yes").addEventListener("click", () => { $("debrief-call").checked = Boolean(debrief.lastCall); askDebrief(true); });
  $("debrief-no").addEventListener("click", () => { const s = suggestion(); debrief.dismissed = s ? s.at : ""; drawDebrief(); });
  setInterval(() => { if (state.me) loadDebriefs().catch(() => {}); }, 2000);
  setInterval(drawDebrief, 500);
  onLanguage(drawDebrief);
})();
