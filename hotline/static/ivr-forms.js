"use strict";
// The IVR editor's forms (issue 19, item 2), one per section of the document, filled into
// ivr.js's FORMS: FORMS[section](data, id) gives {fields, collect}; collect() is the item as the
// draft's PUT /api/ivr/draft/{section}/{id} takes it, what the form does not show kept as it was
// (a topic's guidance, a schedule's exceptions). Every label through t(); references to other
// items are typed with the draft's ids offered (a datalist), so a wrong one is the draft's
// problem, shown at its place. A part of ivr.js: nothing declared at the top.
(function forms() {
  let serial = 0;
  const SLUG = "[a-z][a-z0-9_\\-]{0,39}";
  // A prompt of the document, or one of Asterisk's own sounds (core:beep, core:digits/1).
  const PROMPT_REF = `${SLUG}|core:[a-z0-9][a-z0-9_\\-]{0,39}(/[a-z0-9][a-z0-9_\\-]{0,39}){0,2}`;

  /** A labelled control: the words (kept in the page's language) and the control. */
  function labelled(key, control, className) {
    return element("label", { className: className || "" }, translated("span", key), " ", control);
  }

  function input(name, value, props) {
    return element("input", { name, value: value === undefined || value === null ? "" : String(value), ...(props || {}) });
  }

  function numberInput(name, value, min, max) {
    return input(name, value, { type: "number", min, max, required: true, inputMode: "numeric", size: 5 });
  }

  /** A text field offering the draft's ids of a section (free text: a wrong one is a problem). */
  function reference(name, value, section, required) {
    const list = `dl-${section}-${(serial += 1)}`;
    const ids = section === "languages" ? ed.doc.languages : itemIds(section);
    const options = ids.map((id) => element("option", { value: id, textContent: section === "topics" ? topicLabel(id) : id }));
    const box = element("span", { className: "ref" },
      input(name, value, { required: Boolean(required), autocomplete: "off", pattern: section === "prompts" ? PROMPT_REF : SLUG, maxLength: 80 }),
      element("datalist", { id: list }, ...options));
    box.firstChild.setAttribute("list", list);
    return box;
  }

  function choice(name, value, values, keyOf) {
    const select = element("select", { name });
    select.append(...values.map((v) => translated("option", keyOf(v), { value: v })));
    select.value = value;
    return select;
  }

  function check(name, checked) {
    return element("input", { type: "checkbox", name, checked: Boolean(checked) });
  }

  function fieldset(key, ...children) {
    return element("fieldset", {}, translated("legend", key), ...children);
  }

  /** The value of a named control under `root` ("" for an empty one). */
  function read(root, name) {
    const node = root.querySelector(`[name="${name}"]`);
    if (!node) return "";
    return node.type === "checkbox" ? node.checked : node.value.trim();
  }

  const orNull = (text) => (text === "" ? null : text);
  const numberOrNull = (text) => (text === "" ? null : Number(text));

  // --- What a key does ------------------------------------------------------------------------

  const TARGETS = {
    submenu: [["node", "nodes", true]],
    topic: [["topic", "topics", true]],
    referral: [["referral", "referrals", true]],
    operator: [["queue", "queues", false]],
    language: [["language", "languages", true], ["next", "nodes", true]],
    repeat: [],
    back: [],
  };

  /** An action's editor: its kind, and the fields that kind needs (the others hidden). */
  function actionEditor(action) {
    const current = (action && action.action) || "operator";
    const kind = choice("action", current, ACTIONS, (a) => `ivr.action.${a}`);
    const parts = {};
    const box = element("span", { className: "action" }, labelled("ivr.f.action", kind));
    for (const [name, fields] of Object.entries(TARGETS)) {
      parts[name] = fields.map(([field, section, required]) => {
        const ref = reference(field, name === current ? (action || {})[field] : "", section, required);
        return labelled(`ivr.f.${field}`, ref);
      });
      box.append(...parts[name]);
    }
    const show = () => {
      for (const [name, labels] of Object.entries(parts)) {
        for (const label of labels) {
          label.hidden = name !== kind.value;
          label.querySelector("input").disabled = name !== kind.value; // not checked while hidden
        }
      }
    };
    kind.addEventListener("change", show);
    show();
    const collect = () => {
      const out = { action: kind.value };
      for (const [field] of TARGETS[kind.value]) {
        const value = read(box, field);
        if (value !== "" || field !== "queue") out[field] = value;
      }
      return out;
    };
    return { box, collect };
  }

  /** One key's row: the key, what it does, a button to take it away. */
  function optionRow(key, action, rows) {
    const digit = element("select", { name: "key" }, ...DIGIT_KEYS.map((k) => element("option", { value: k, textContent: k })));
    digit.value = key;
    const editor = actionEditor(action);
    const remove = translated("button", "ivr.remove_option", { type: "button", className: "remove" });
    const row = element("div", { className: "option" }, labelled("ivr.f.key", digit), editor.box, remove);
    row.dataset.key = key;
    digit.addEventListener("change", () => { row.dataset.key = digit.value; });
    remove.addEventListener("click", () => { rows.splice(rows.indexOf(entry), 1); row.remove(); });
    const entry = { row, key: () => digit.value, collect: editor.collect };
    rows.push(entry);
    return row;
  }

  function silenceRow(key, action) {
    const editor = actionEditor(action);
    const row = element("div", { className: "option" }, translated("strong", `ivr.${key}`), " ", editor.box);
    row.dataset.key = key;
    return { row, collect: editor.collect };
  }

  FORMS.nodes = (node) => {
    const rows = [];
    const list = element("div", { className: "options" },
      ...keypadOrder(node.options).map(([key, action]) => optionRow(key, action, rows)));
    const add = translated("button", "ivr.add_option", { type: "button" });
    add.addEventListener("click", () => {
      const free = DIGIT_KEYS.find((k) => !rows.some((r) => r.key() === k)) || "1";
      list.append(optionRow(free, { action: "operator" }, rows));
      list.lastChild.querySelector("select").focus();
    });
    const silence = silenceRow("no_input", node.no_input);
    const wrong = silenceRow("invalid", node.invalid);
    const prompt = reference("prompt", node.prompt, "prompts", true);
    const fields = [
      element("div", { className: "row" }, labelled("ivr.f.prompt", prompt),
        labelled("ivr.f.timeout", numberInput("timeout_seconds", node.timeout_seconds || 5, 1, 30)),
        labelled("ivr.f.tries", numberInput("tries", node.tries || 2, 1, 5))),
      fieldset("ivr.options", list, add),
      fieldset("ivr.when_nothing", silence.row, wrong.row),
    ];
    const collect = () => {
      const keys = rows.map((r) => r.key());
      const twice = keys.find((k, i) => keys.indexOf(k) !== i);
      if (twice) throw new Error(t("ivr.key_twice", { key: twice }));
      const box = $("item-fields");
      return {
        ...node,
        prompt: read(box, "prompt"),
        timeout_seconds: Number(read(box, "timeout_seconds")),
        tries: Number(read(box, "tries")),
        options: rows.map((r) => [r.key(), r.collect()]),
        no_input: silence.collect(),
        invalid: wrong.collect(),
      };
    };
    /** The node as JSON with its keys in the rows' order (an object would put 0 first). */
    const json = (value) => {
      const options = `{${value.options.map(([k, a]) => `${JSON.stringify(k)}:${JSON.stringify(a)}`).join(",")}}`;
      return JSON.stringify({ ...value, options: "\u0000" }).replace('"\\u0000"', () => options);
    };
    return { fields, collect, json };
  };

  // --- Topics, queues, referrals ----------------------------------------------------------------

  // --- A topic's protocol for the operator (its guidance) ---------------------------------------

  const GUIDE_LISTS = ["steps", "risk_questions", "escalate_when"];

  function lines(name, list) {
    return element("textarea", { name, rows: 4, maxLength: 9000, value: (list || []).join("\n") });
  }

  /** The protocol's fields: where to hand on, the partner lines suggested, and per language its
   * summary and lists (one item a line); what a call may be about (issues) is kept as it is. */
  function guidanceFields(guidance) {
    const g = guidance || {};
    const texts = g.texts || {};
    const perLanguage = ed.doc.languages.map((lang) => {
      const text = texts[lang] || {};
      return element("fieldset", {},
        element("legend", { textContent: t("ivr.guidance_in", { language: languageName(lang) }) }),
        labelled("ivr.f.summary", element("textarea", { name: `g-summary-${lang}`, rows: 2, maxLength: 600, value: text.summary || "" }), "block"),
        ...GUIDE_LISTS.map((list) => labelled(`ivr.f.${list}`, lines(`g-${list}-${lang}`, text[list]), "block")));
    });
    const box = element("details", { className: "guidance" }, translated("summary", "ivr.guidance"),
      ...(g.example ? [translated("p", "ivr.guidance_example", { className: "hint" })] : []),
      element("div", { className: "row" },
        labelled("ivr.f.escalate_to", reference("g-escalate", g.escalate_to, "queues", false)),
        labelled("ivr.f.suggested", input("g-referrals", (g.referrals || []).join(", "), { size: 30, pattern: "[a-z0-9_, \\-]*" }))),
      ...perLanguage);
    return box;
  }

  function collectGuidance(box, guidance) {
    const g = guidance || {};
    const split = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
    const texts = { ...(g.texts || {}) };
    for (const lang of ed.doc.languages) {
      const text = { summary: read(box, `g-summary-${lang}`) };
      for (const list of GUIDE_LISTS) text[list] = split(read(box, `g-${list}-${lang}`));
      if (text.summary || GUIDE_LISTS.some((list) => text[list].length)) texts[lang] = text;
      else delete texts[lang];
    }
    const referrals = read(box, "g-referrals").split(/[\s,]+/).filter(Boolean);
    const escalate = orNull(read(box, "g-escalate"));
    if (!guidance && !Object.keys(texts).length && !referrals.length && !escalate) return undefined;
    return { ...g, texts, referrals, escalate_to: escalate };
  }

  FORMS.topics = (topic) => {
    const names = ed.doc.languages.map((lang) => element("label", {},
      element("span", { textContent: t("ivr.f.name_in", { language: languageName(lang) }) }), " ",
      input(`name-${lang}`, (topic.names || {})[lang], { maxLength: 200 })));
    const over = topic.overflow || {};
    const after = topic.after_hours || {};
    const fields = [
      fieldset("ivr.names", ...names),
      element("div", { className: "row" },
        labelled("ivr.f.queue", reference("queue", topic.queue, "queues", true)),
        labelled("ivr.f.priority", numberInput("priority", topic.priority || 0, 0, 10)),
        labelled("ivr.f.schedule", reference("schedule", topic.schedule, "schedules", false)),
        labelled("ivr.f.survey", check("survey", topic.survey))),
      fieldset("ivr.overflow",
        labelled("ivr.f.overflow_queue", reference("overflow_queue", over.queue, "queues", false)),
        labelled("ivr.f.after_seconds", input("overflow_after", over.after_seconds, { type: "number", min: 5, max: 3600, size: 5 })),
        labelled("ivr.f.waiting_over", input("overflow_waiting", over.when_waiting_over, { type: "number", min: 0, max: 1000, size: 5 }))),
      fieldset("ivr.after_hours",
        labelled("ivr.f.prompt", reference("after_prompt", after.prompt, "prompts", false)),
        labelled("ivr.f.referral", reference("after_referral", after.referral, "referrals", false)),
        labelled("ivr.f.queue", reference("after_queue", after.queue, "queues", false))),
      guidanceFields(topic.guidance),
    ];
    const collect = () => {
      const box = $("item-fields");
      const out = { ...topic, queue: read(box, "queue"), priority: Number(read(box, "priority")), survey: read(box, "survey") };
      out.names = Object.fromEntries(ed.doc.languages.map((l) => [l, read(box, `name-${l}`)]).filter(([, v]) => v));
      out.schedule = orNull(read(box, "schedule"));
      const queue = read(box, "overflow_queue");
      out.overflow = queue ? { queue, after_seconds: numberOrNull(read(box, "overflow_after")), when_waiting_over: numberOrNull(read(box, "overflow_waiting")) } : null;
      const hours = { prompt: orNull(read(box, "after_prompt")), referral: orNull(read(box, "after_referral")), queue: orNull(read(box, "after_queue")) };
      out.after_hours = Object.values(hours).some((v) => v) ? hours : null;
      const guidance = collectGuidance(box, topic.guidance);
      if (guidance) out.guidance = guidance; else delete out.guidance;
      delete out.id;
      return out;
    };
    return { fields, collect };
  };

  const STRATEGIES = ["leastrecent", "rrmemory", "fewestcalls", "linear", "ringall", "random"];

  FORMS.queues = (queue) => {
    const ann = queue.announcements || {};
    const fields = [
      element("div", { className: "row" },
        labelled("ivr.f.strategy", choice("strategy", queue.strategy || "leastrecent", STRATEGIES, (s) => `ivr.strategy.${s}`)),
        labelled("ivr.f.service_level", numberInput("service_level_seconds", queue.service_level_seconds ?? 20, 1, 3600)),
        labelled("ivr.f.wrapup", numberInput("wrapup_seconds", queue.wrapup_seconds ?? 30, 0, 3600)),
        labelled("ivr.f.ring", numberInput("ring_seconds", queue.ring_seconds ?? 15, 5, 300)),
        labelled("ivr.f.unstaffed", choice("when_unstaffed", queue.when_unstaffed || "wait", ["wait", "fallback"], (w) => `ivr.unstaffed.${w}`))),
      fieldset("ivr.announcements",
        labelled("ivr.f.position", check("position", ann.position)),
        labelled("ivr.f.hold_time", check("hold_time", ann.hold_time)),
        labelled("ivr.f.every", numberInput("every_seconds", ann.every_seconds ?? 60, 15, 3600)),
        labelled("ivr.f.periodic_prompt", reference("periodic_prompt", ann.periodic_prompt, "prompts", false)),
        labelled("ivr.f.periodic_every", numberInput("periodic_seconds", ann.periodic_seconds ?? 60, 15, 3600))),
    ];
    const collect = () => {
      const box = $("item-fields");
      const numbers = ["service_level_seconds", "wrapup_seconds", "ring_seconds"].map((n) => [n, Number(read(box, n))]);
      return {
        ...queue, ...Object.fromEntries(numbers), strategy: read(box, "strategy"), when_unstaffed: read(box, "when_unstaffed"),
        announcements: {
          position: read(box, "position"), hold_time: read(box, "hold_time"), every_seconds: Number(read(box, "every_seconds")),
          periodic_prompt: orNull(read(box, "periodic_prompt")), periodic_seconds: Number(read(box, "periodic_seconds")),
        },
      };
    };
    return { fields, collect };
  };

  FORMS.referrals = (referral) => {
    const topics = itemIds("topics").map((id) => element("label", { className: "inline" },
      check(`topic-${id}`, (referral.topics || []).includes(id)), " ", topicLabel(id)));
    const fields = [
      labelled("ivr.f.organisation", input("organisation", referral.organisation, { required: true, maxLength: 120, size: 30 }), "block"),
      labelled("ivr.f.description", input("description", referral.description, { maxLength: 500, size: 40 }), "block"),
      element("div", { className: "row" },
        labelled("ivr.f.number", input("number", referral.number, { required: true, pattern: "\\+?[0-9]{3,20}", size: 14, inputMode: "tel" })),
        labelled("ivr.f.schedule", reference("schedule", referral.schedule, "schedules", false)),
        labelled("ivr.f.languages", input("languages", (referral.languages || []).join(", "), { size: 10, pattern: "[a-z, ]*" })),
        labelled("ivr.f.region", input("region", referral.region, { maxLength: 80 }))),
      fieldset("ivr.f.topics", ...topics),
    ];
    const collect = () => {
      const box = $("item-fields");
      const unknown = (referral.topics || []).filter((id) => !itemIds("topics").includes(id));
      return {
        ...referral, organisation: read(box, "organisation"), description: read(box, "description"), number: read(box, "number"),
        schedule: orNull(read(box, "schedule")), region: orNull(read(box, "region")),
        languages: read(box, "languages").split(/[\s,]+/).filter(Boolean),
        topics: [...(referral.topics || []).filter((id) => unknown.includes(id) || read(box, `topic-${id}`)),
          ...itemIds("topics").filter((id) => !(referral.topics || []).includes(id) && read(box, `topic-${id}`))],
      };
    };
    return { fields, collect };
  };

  // --- Schedules: a weekly grid and holidays ------------------------------------------------------

  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  /** A weekday's name in the page's language (2024-01-01 was a Monday); short for the grid. */
  function dayName(i, length) {
    return new Intl.DateTimeFormat(locale(), { weekday: length || "long", timeZone: "UTC" }).format(Date.UTC(2024, 0, 1 + i));
  }

  /** 24 hour cells, filled where a range is open (drawn for the eye; the text says it). */
  function hoursBar(text) {
    const open = new Array(24).fill(false);
    for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
      const m = part.match(/^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/);
      if (!m) continue;
      for (let h = Number(m[1]); h < Math.min(24, Number(m[3]) + (m[4] !== "00" ? 1 : 0)); h++) open[h] = true;
    }
    return element("span", { className: "bar", ariaHidden: "true" },
      ...open.map((on) => element("span", { className: on ? "on" : "", textContent: on ? "█" : "·" })));
  }

  function weekGrid(weekly) {
    const rows = DAYS.map((day, i) => {
      const text = (weekly[day] || []).join(", ");
      const field = input(`day-${day}`, text, { pattern: "(\\s*\\d{1,2}:\\d{2}\\s*-\\s*\\d{1,2}:\\d{2}\\s*,?)*", size: 22 });
      field.setAttribute("aria-label", t("ivr.f.hours_on", { day: dayName(i) }));
      const bar = element("td", {}, hoursBar(text));
      field.addEventListener("input", () => bar.replaceChildren(hoursBar(field.value)));
      const name = element("th", { scope: "row" }, element("abbr", { title: dayName(i), textContent: dayName(i, "short") }));
      return element("tr", {}, name, element("td", {}, field), bar);
    });
    return element("table", { className: "week" },
      element("thead", {}, element("tr", {}, translated("th", "ivr.day"), translated("th", "ivr.hours"), translated("th", "ivr.hours_bar"))),
      element("tbody", {}, ...rows));
  }

  function holidayList(days) {
    const list = element("ul", { className: "holidays" });
    const addDay = (value) => {
      const field = input("holiday", value, { type: "date", required: true });
      field.setAttribute("aria-label", t("ivr.f.holiday"));
      const remove = translated("button", "ivr.remove_holiday", { type: "button" });
      const li = element("li", {}, field, " ", remove);
      remove.addEventListener("click", () => li.remove());
      list.append(li);
      return field;
    };
    days.forEach(addDay);
    const add = translated("button", "ivr.add_holiday", { type: "button" });
    add.addEventListener("click", () => addDay("").focus());
    return [list, add];
  }

  FORMS.schedules = (schedule) => {
    const exceptions = (schedule.exceptions || []).length;
    const fields = [
      element("div", { className: "row" },
        labelled("ivr.f.timezone", input("timezone", schedule.timezone || "Europe/Moscow", { required: true, maxLength: 60 })),
        labelled("ivr.f.always_open", check("always_open", schedule.always_open))),
      fieldset("ivr.week", translated("p", "ivr.week_hint", { className: "hint" }), weekGrid(schedule.weekly || {})),
      fieldset("ivr.holidays", ...holidayList(schedule.holidays || [])),
      element("p", { className: "hint", textContent: t("ivr.exceptions_kept", { n: exceptions }) }),
    ];
    const collect = () => {
      const box = $("item-fields");
      const weekly = {};
      for (const day of DAYS) {
        const ranges = read(box, `day-${day}`).split(/\s*[,;]\s*|\s+(?=\d)/).map((r) => r.replace(/\s+/g, "")).filter(Boolean);
        if (ranges.length) weekly[day] = ranges;
      }
      const holidays = [...box.querySelectorAll('[name="holiday"]')].map((f) => f.value).filter(Boolean);
      return { ...schedule, timezone: read(box, "timezone"), always_open: read(box, "always_open"), weekly, holidays };
    };
    return { fields, collect };
  };

  // --- Prompts: a text per language, listened to, or a recording ---------------------------------

  function promptLanguage(id, lang, source) {
    const text = element("textarea", { name: `text-${lang}`, rows: 3, maxLength: 1000, value: source.text || "" });
    const audio = element("audio", { controls: true, preload: "none" });
    audio.setAttribute("aria-label", t("ivr.audio_of", { language: languageName(lang) }));
    const listen = translated("button", "ivr.listen", { type: "button" });
    listen.addEventListener("click", () => {
      audio.src = `/api/ivr/prompts/${encodeURIComponent(id)}/${lang}/audio?source=draft&t=${Date.now()}`;
      audio.play().catch(() => say(t("ivr.listen_failed"), false));
    });
    const file = element("input", { type: "file", accept: "audio/*", name: `file-${lang}` });
    const upload = translated("button", "ivr.upload", { type: "button" });
    upload.addEventListener("click", () => uploadRecording(id, lang, file).catch((err) => say(errorText(err), false)));
    const recorded = source.recording ? t("ivr.recorded", { hash: source.recording.slice(0, 12) }) : t("ivr.not_recorded");
    return element("fieldset", { className: "prompt-language" },
      element("legend", { textContent: languageName(lang) }),
      labelled("ivr.f.text", text, "block"),
      element("p", { className: "hint", textContent: recorded }),
      element("div", { className: "row" }, listen, audio),
      element("div", { className: "row" }, labelled("ivr.f.recording", file), upload));
  }

  async function uploadRecording(id, lang, file) {
    const chosen = file.files[0];
    if (!chosen) { say(t("ivr.choose_file"), false); return; }
    took(await api("PUT", `/api/ivr/prompts/${encodeURIComponent(id)}/${lang}/recording`, chosen, chosen.type || "application/octet-stream"));
    await loadDraft();
    openItem("prompts", id);
    say(t("ivr.uploaded", { language: languageName(lang) }), true);
  }

  FORMS.prompts = (prompt, id) => {
    const langs = [...new Set([...ed.doc.languages, ...Object.keys(prompt)])];
    const fields = [translated("p", "ivr.prompt_hint", { className: "hint" }),
      ...langs.map((lang) => promptLanguage(id, lang, prompt[lang] || {}))];
    const collect = () => {
      const box = $("item-fields");
      const out = {};
      for (const lang of langs) {
        const text = read(box, `text-${lang}`);
        const kept = (prompt[lang] || {}).recording;
        if (text) out[lang] = { text };
        else if (kept) out[lang] = { recording: kept };
      }
      return out;
    };
    return { fields, collect };
  };

  // --- A new item -------------------------------------------------------------------------------

  /** The smallest item of a section the draft takes, to be completed in its form. */
  function template(section, id) {
    const langs = ed.doc.languages;
    const first = itemIds("prompts")[0] || id;
    return {
      nodes: { prompt: first, options: { 0: { action: "operator" } } },
      topics: { names: Object.fromEntries(langs.map((l) => [l, id])), queue: ed.doc.fallback_queue },
      queues: {},
      schedules: { timezone: "Europe/Moscow", weekly: { mon: ["09:00-18:00"] } },
      referrals: { organisation: id, number: "000" },
      prompts: Object.fromEntries(langs.map((l) => [l, { text: id }])),
    }[section];
  }

  FORMS.create = (section) => {
    const id = input("new-id", "", { required: true, pattern: "[a-z][a-z0-9_\\-]{0,39}", maxLength: 40, autocomplete: "off" });
    const fields = [labelled("ivr.f.new_id", id, "block"), translated("p", "ivr.new_hint", { className: "hint" })];
    return {
      fields,
      target: () => [section, id.value.trim()],
      collect: () => {
        if (itemIds(section).includes(id.value.trim())) throw new Error(t("ivr.exists", { id: id.value.trim() }));
        return template(section, id.value.trim());
      },
    };
  };
})();
