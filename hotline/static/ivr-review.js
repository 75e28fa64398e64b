"use strict";
// The IVR editor's simulation, review and publishing (issue 19, item 2), a part of ivr.js
// (nothing declared at the top): a caller simulated on the draft with the prompts' texts
// (POST /api/ivr/simulate: each step's texts, a recording by its id); the draft's changes against
// the live version, item by item and as text (GET /api/ivr/diff), each leading to its item's
// form; publishing with a note from that review only, which goes stale with any change.
(function reviewPart() {
  const CHANGE_SIGNS = { added: "+", removed: "−", changed: "~" };

  // --- Simulation -------------------------------------------------------------------------------------

  /** The words a step's prompts say: the answer's texts (a recording by its id), else the draft's. */
  function stepTexts(step) {
    const ids = step.prompt_ids || step.prompts || [];
    const given = step.texts !== undefined ? step.texts : step.text;
    const fromDraft = (id) => (id ? promptText(id, step.language) : "");
    const recorded = (id) => t("ivr.sim_recording", { id: id || "?" });
    if (Array.isArray(given) && given.length) return given.map((x, i) => x || (ids[i] ? recorded(ids[i]) : "")).join(" ");
    if (typeof given === "string" && given) return given;
    return ids.map(fromDraft).join(" ");
  }

  async function simulate() {
    const keys = $("sim-keys").value.trim().split(/\s+/).filter(Boolean).map((k) => (k === "-" ? "" : k));
    const body = { keys, draft: true, language: $("sim-language").value || null };
    ed.sim = await api("POST", "/api/ivr/simulate", body);
    drawSimulation();
  }

  function drawSimulation() {
    const out = ed.sim;
    if (!out) return;
    $("sim-steps").replaceChildren(...out.steps.map((s) => element("li", {},
      element("strong", { textContent: t("ivr.node", { id: s.node }) }), " ",
      element("q", { textContent: stepTexts(s) }), " ",
      element("span", { textContent: s.pressed ? t("ivr.sim_pressed", { key: s.pressed }) : t("ivr.sim_silence") }))));
    const r = out.route;
    if (!r) { $("sim-route").textContent = t("ivr.sim_waiting", { node: out.waiting_at }); return; }
    const where = r.kind === "referral" ? t("ivr.sim_referral", { referral: r.referral, number: r.referral_number })
      : t("ivr.sim_queue", { queue: r.queue });
    const topic = r.topic ? topicLabel(r.topic) : "–";
    const announce = (out.announce_texts || []).filter(Boolean);
    const words = [`→ ${where}`, t("ivr.sim_topic", { topic })];
    if (r.after_hours) words.push(t("ivr.sim_after_hours"));
    if (announce.length) words.push(t("ivr.sim_announce", { texts: announce.join(" ") }));
    $("sim-route").textContent = words.join("; ");
  }

  function fillLanguages() {
    const select = $("sim-language");
    const kept = select.value;
    select.replaceChildren(...ed.doc.languages.map((code) => element("option", { value: code, textContent: languageName(code) })));
    select.value = ed.doc.languages.includes(kept) ? kept : ed.doc.default_language;
  }

  // --- Review and publish -----------------------------------------------------------------------------

  /** A change to the draft makes the review old: it goes, and publishing with it. */
  function staleReview() {
    ed.review = null;
    $("review-out").hidden = true;
  }

  async function review() {
    ed.review = await api("GET", "/api/ivr/diff");
    drawReview();
    $("review-out").hidden = false;
    $("review-against").focus();
  }

  function drawReview() {
    const r = ed.review;
    if (!r) return;
    $("review-against").textContent = r.against ? t("ivr.against", { version: r.against }) : t("ivr.against_none");
    $("review-against").tabIndex = -1;
    const changes = r.changes;
    const items = changes.map((c) => element("li", { className: c.change },
      element("span", { className: "sign", textContent: `${CHANGE_SIGNS[c.change] || "~"} `, ariaHidden: "true" }),
      `${t(`ivr.change.${c.change}`)}: ${hasText(`ivr.section.${c.section}`) ? t(`ivr.section.${c.section}`) : c.section} `,
      changedItem(c),
      c.fields && c.fields.length ? ` (${t("ivr.fields", { fields: c.fields.join(", ") })})` : ""));
    if (!changes.length) items.push(element("li", { textContent: t("ivr.no_changes") }));
    $("changes").replaceChildren(...items);
    $("unified").textContent = r.unified || "";
  }

  /** A changed item's name; a button to its form when the draft still has it. */
  function changedItem(c) {
    const words = c.section === "topics" ? `${topicLabel(c.id)} (${c.id})` : c.id;
    if (!SECTIONS.includes(c.section) || itemData(c.section, c.id) === undefined) return element("strong", { textContent: words });
    const go = element("button", { type: "button", className: "link", textContent: words });
    go.addEventListener("click", () => reveal(`${c.section}/${c.id}`));
    return go;
  }

  async function publish() {
    const out = await api("POST", "/api/ivr/publish", { note: $("publish-note").value.trim() });
    $("publish-note").value = "";
    staleReview();
    say(t("ivr.published", { version: out.version }), true);
    await loadVersions();
  }

  HOOKS.drawn.push(fillLanguages);
  HOOKS.changed.push(staleReview);
  HOOKS.redraw.push(drawSimulation, drawReview);
  $("sim-form").addEventListener("submit", run(simulate));
  $("review").addEventListener("click", run(review));
  $("publish-form").addEventListener("submit", run(publish));
})();
