"use strict";
// Switchboarding on the wallboard (issue 17, item 5): the redirects in force, each with a
// countdown to its expiry and a button to end it early, and a small form to send a queue's new
// callers to another queue or a partner line for a while. Reads GET /api/switchboard every few
// seconds (shift leads and admins; wallboard.js handles a refused session). Its words come from
// i18n-wallboard.js (t()) and are redrawn when the language changes. Everything it declares
// stays inside this function: the page's other scripts share the global scope.
(() => {
  const root = $("switchboard");
  if (!root) return;
  const view = { data: null, at: 0, options: "" };
  const list = element("ul", { id: "switchboard-list", "aria-live": "polite" });
  const queue = element("select", { id: "switchboard-queue", required: true });
  const target = element("select", { id: "switchboard-target", required: true });
  const minutes = element("input", {
    id: "switchboard-minutes", type: "number", min: "0.25", max: "1440", step: "0.25", value: "30", required: true,
  });
  /** Words kept in the page's language: translatePage() redraws them (data-i18n). */
  const words = (key) => {
    const span = element("span", { textContent: t(key) });
    span.dataset.i18n = key;
    return span;
  };
  const form = element(
    "form", { id: "switchboard-form" },
    element("label", {}, words("wallboard.switch.send"), " ", queue), " ",
    element("label", {}, words("wallboard.switch.to"), " ", target), " ",
    element("label", {}, words("wallboard.switch.for"), " ", minutes, " ", words("wallboard.switch.minutes")), " ",
    element("button", { type: "submit" }, words("wallboard.switch.redirect")),
  );
  const heading = element("h2", { id: "switchboard-h" }, words("wallboard.switch.title"));
  root.append(heading, list, form);

  const clockTime = (iso) => formatDateTime(iso, undefined, { timeStyle: "medium" });
  const countdown = (seconds) => formatDuration(Math.max(0, Math.round(seconds)));

  function targetName(r) {
    if (r.target_queue) return t("wallboard.switch.queue", { queue: r.target_queue });
    const partner = ((view.data && view.data.referrals) || []).find((p) => p.id === r.target_referral);
    return t("wallboard.switch.partner", { name: partner ? partner.organisation : r.target_referral });
  }

  function draw() {
    const active = view.data ? view.data.active : [];
    const gone = (Date.now() - view.at) / 1000;
    const items = active.map((r) => {
      const left = r.seconds_left - gone;
      const end = element("button", { type: "button", textContent: t("wallboard.switch.end"), className: "switchboard-end" });
      end.addEventListener("click", () => finish(r));
      const until = t("wallboard.switch.item", { queue: r.queue, target: targetName(r), time: clockTime(r.planned_end) });
      const remaining = left > 0 ? t("wallboard.switch.left", { time: countdown(left) }) : t("wallboard.switch.ending");
      return element(
        "li", { className: left > 0 ? "bad" : "" },
        `${until} `,
        element("span", { className: "switchboard-left", textContent: remaining }),
        ` ${t("wallboard.switch.by", { who: r.started_by })} `, end,
      );
    });
    list.replaceChildren(...(items.length ? items : [element("li", { textContent: t("wallboard.switch.none") })]));
  }

  function fillChoices(data) {
    const key = JSON.stringify([data.queues, data.referrals, i18n.language]);
    if (key === view.options) return; // keep what the lead has chosen
    view.options = key;
    const chosen = [queue.value, target.value];
    const queues = data.queues.map((q) => element("option", { value: q, textContent: q }));
    queue.replaceChildren(...queues);
    target.replaceChildren(
      element("optgroup", { label: t("wallboard.switch.queues") }, ...data.queues.map((q) => element("option", { value: `queue:${q}`, textContent: q }))),
      element("optgroup", { label: t("wallboard.switch.partners") }, ...data.referrals.map((p) => element("option", { value: `referral:${p.id}`, textContent: p.organisation }))),
    );
    if (chosen[0]) queue.value = chosen[0];
    if (chosen[1]) target.value = chosen[1];
  }

  async function load() {
    if (!session.who) return; // a person's page: a kiosk does not switchboard
    try {
      view.data = await api("GET", "/api/switchboard");
      view.at = Date.now();
      fillChoices(view.data);
      draw();
    } catch (err) {
      if (!refused(err)) list.replaceChildren(element("li", { className: "bad", textContent: describe(err) }));
    }
  }

  async function finish(r) {
    try {
      await api("DELETE", `/api/switchboard/${r.id}`);
      say(t("wallboard.switch.ended", { queue: r.queue }), true);
    } catch (err) { fail(err); }
    load();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const [kind, name] = target.value.split(/:(.*)/s);
    const body = { queue: queue.value, minutes: Number(minutes.value) };
    body[kind === "queue" ? "target_queue" : "target_referral"] = name;
    try {
      const made = await api("POST", "/api/switchboard", body);
      say(t("wallboard.switch.made", { queue: made.queue, target: targetName(made), time: clockTime(made.planned_end) }), true);
    } catch (err) { fail(err); }
    load();
  });

  setInterval(draw, 1000);
  onLanguage(() => { if (view.data) fillChoices(view.data); draw(); });
  setInterval(load, 3000);
  load();
  window.switchboardReload = load; // tests and the page's other scripts may ask for a fresh list
})();
