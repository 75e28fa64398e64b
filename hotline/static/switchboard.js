"use strict";
// Switchboarding on the wallboard (issue 17, item 5): the redirects in force, each with a
// countdown to its expiry and a button to end it early, and a small form to send a queue's new
// callers to another queue or a partner line for a while. Reads GET /api/switchboard every few
// seconds (shift leads and admins; wallboard.js handles a refused session). Everything it declares
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
  const form = element(
    "form", { id: "switchboard-form" },
    element("label", {}, "Send new callers of ", queue), " ",
    element("label", {}, "to ", target), " ",
    element("label", {}, "for ", minutes, " min"), " ",
    element("button", { type: "submit", textContent: "Redirect" }),
  );
  root.append(element("h2", { id: "switchboard-h", textContent: "Switchboarding" }), list, form);

  const clockTime = (iso) => new Date(Date.parse(iso)).toLocaleTimeString();

  function countdown(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  function targetName(r) {
    if (r.target_queue) return `queue ${r.target_queue}`;
    const partner = ((view.data && view.data.referrals) || []).find((p) => p.id === r.target_referral);
    return `partner line ${partner ? partner.organisation : r.target_referral}`;
  }

  function draw() {
    const active = view.data ? view.data.active : [];
    const gone = (Date.now() - view.at) / 1000;
    const items = active.map((r) => {
      const left = r.seconds_left - gone;
      const end = element("button", { type: "button", textContent: "End now", className: "switchboard-end" });
      end.addEventListener("click", () => finish(r));
      return element(
        "li", { className: left > 0 ? "bad" : "" },
        `${r.queue} → ${targetName(r)} until ${clockTime(r.planned_end)} `,
        element("span", { className: "switchboard-left", textContent: left > 0 ? `(${countdown(left)} left)` : "(ending)" }),
        ` by ${r.started_by} `, end,
      );
    });
    list.replaceChildren(...(items.length ? items : [element("li", { textContent: "No queue is redirected." })]));
  }

  function fillChoices(data) {
    const key = JSON.stringify([data.queues, data.referrals]);
    if (key === view.options) return; // keep what the lead has chosen
    view.options = key;
    const queues = data.queues.map((q) => element("option", { value: q, textContent: q }));
    queue.replaceChildren(...queues);
    target.replaceChildren(
      element("optgroup", { label: "Queues" }, ...data.queues.map((q) => element("option", { value: `queue:${q}`, textContent: q }))),
      element("optgroup", { label: "Partner lines" }, ...data.referrals.map((p) => element("option", { value: `referral:${p.id}`, textContent: p.organisation }))),
    );
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
      say(`${r.queue} takes its own new callers again.`, true);
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
      say(`New callers of ${made.queue} go to ${targetName(made)} until ${clockTime(made.planned_end)}.`, true);
    } catch (err) { fail(err); }
    load();
  });

  setInterval(draw, 1000);
  setInterval(load, 3000);
  load();
  window.switchboardReload = load; // tests and the page's other scripts may ask for a fresh list
})();
