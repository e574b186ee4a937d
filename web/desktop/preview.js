// The preview dialer in the desktop: a "Preview" pane with the campaigns of my queues and
// their news (loaded, started, ...), "Get Record", the record's case and record
// information, its numbers plus a new number with its type, "Call" or the auto-dial
// countdown, "Decline" (call later with a time, or do not call), and after the call the
// outcome form (call result, disposition codes, notes, Do Not Call). Talks to the
// dialer's agent REST (`/api/agents/{id}/session`, `/campaigns`, `.../records/...`) and
// follows its `preview` events; the call itself shows in voice.js's pane. Loaded after
// desktop.js and voice.js (it uses voiceEl).
"use strict";

const PREVIEW_STATUS = {
  stopped: "Stopped", loaded: "Loaded", running: "Running", paused: "Paused", completed: "Completed",
};
const PREVIEW_PHONE_TYPES = ["mobile", "home", "work", "other"];

const pv = {
  node: null,
  campaigns: [],
  session: null,
  record: null, // the PreviewView on screen
  outcome: null, // { record, campaign, suggested, sip_status } while the outcome is due
  calling: null, // what the call is doing: dialling, connected
};

function pvAgentPath(tail) {
  return `/api/agents/${encodeURIComponent(desk.agent)}${tail}`;
}

function pvRecordPath(action) {
  const r = pv.record || pv.outcome;
  return pvAgentPath(`/campaigns/${r.campaign}/records/${r.record}/${action}`);
}

function pvBuild() {
  const E = voiceEl;
  const node = E("article", { class: "card preview-pane", "aria-label": "Preview" },
    E("header", { class: "chat-head" },
      E("span", { class: "channel-icon small", role: "img", "aria-label": "Preview record", title: "Preview record" }, icon("preview")),
      E("div", { class: "chat-title" },
        E("h2", { text: "Preview dialer" }),
        E("div", { class: "chat-sub", id: "pv-sub", text: "Outbound campaigns of your queues" }))),
    E("ul", { id: "pv-notices", class: "pv-notices", "aria-label": "Campaign notices", "aria-live": "polite" }),
    E("div", { class: "pv-body" },
      E("div", { class: "pv-get row" },
        E("select", { id: "pv-campaign", "aria-label": "Campaign" }),
        E("button", { type: "button", id: "pv-get", text: "Get Record" })),
      E("p", { id: "pv-empty", class: "empty", text: "No record on screen. Choose a running campaign and press Get Record, or go Ready to have records pushed to you." }),
      E("section", { id: "pv-record", class: "pv-record", "aria-label": "Record", hidden: true },
        E("div", { class: "pv-record-head" },
          E("h3", { id: "pv-name" }),
          E("span", { id: "pv-meta", class: "chat-sub" })),
        E("div", { class: "pv-info" },
          E("div", {}, E("h4", { class: "section-title", text: "Case information" }), E("dl", { id: "pv-case", class: "pv-facts", "aria-label": "Case information" })),
          E("div", {}, E("h4", { class: "section-title", text: "Record information" }), E("dl", { id: "pv-info", class: "pv-facts", "aria-label": "Record information" }))),
        E("fieldset", { id: "pv-numbers", class: "codes pv-numbers" }, E("legend", { text: "Number to call" })),
        E("div", { id: "pv-countdown", class: "pv-countdown", role: "timer", "aria-label": "Auto-dial countdown", hidden: true }),
        E("div", { class: "row pv-actions" },
          E("button", { type: "button", id: "pv-call", class: "good", text: "Call" }),
          E("button", { type: "button", id: "pv-decline", class: "secondary", text: "Decline" })),
        E("div", { id: "pv-decline-box", class: "pv-decline", hidden: true },
          E("label", { for: "pv-retry", text: "Call back at (optional)" }),
          E("input", { id: "pv-retry", type: "datetime-local" }),
          E("div", { class: "row" },
            E("button", { type: "button", id: "pv-later", class: "secondary", text: "Call later" }),
            E("button", { type: "button", id: "pv-dnc", class: "danger", text: "Do not call" })))),
      E("div", { id: "pv-status", class: "notice", role: "status", hidden: true }),
      E("form", { id: "pv-outcome", class: "pv-outcome", "aria-label": "Call outcome", hidden: true },
        E("h3", { text: "Call outcome" }),
        E("div", { class: "field" },
          E("label", { for: "pv-result", text: "Call result" }),
          E("select", { id: "pv-result" })),
        E("div", { class: "field", id: "pv-callback-field", hidden: true },
          E("label", { for: "pv-callback", text: "Callback time" }),
          E("input", { id: "pv-callback", type: "datetime-local" })),
        E("fieldset", { id: "pv-dispositions", class: "codes" }, E("legend", { text: "Disposition codes" })),
        E("div", { class: "field" },
          E("label", { for: "pv-notes", text: "Notes" }),
          E("textarea", { id: "pv-notes", rows: "3" })),
        E("label", { class: "pv-check" }, E("input", { type: "checkbox", id: "pv-dnc-box" }), document.createTextNode("Do Not Call")),
        E("div", { class: "row end" }, E("button", { type: "submit", id: "pv-save", text: "Save outcome" }))),
      E("p", { id: "pv-error", class: "error", role: "alert" })));
  return node;
}

const pv$ = (id) => pv.node.querySelector(`#${id}`);

function pvError(message) { pv$("pv-error").textContent = message || ""; }

function pvNotice(text) {
  const list = pv$("pv-notices");
  const li = voiceEl("li", { text });
  list.prepend(li);
  while (list.children.length > 4) list.lastElementChild.remove();
}

function pvCampaigns() {
  const select = pv$("pv-campaign");
  const before = select.value;
  select.replaceChildren();
  for (const c of pv.campaigns) {
    const o = voiceEl("option", { value: String(c.id), text: `${c.name} · ${PREVIEW_STATUS[c.status] || c.status}` });
    if (c.status !== "running") o.disabled = true;
    select.append(o);
  }
  const running = pv.campaigns.filter((c) => c.status === "running");
  if (running.some((c) => String(c.id) === before)) select.value = before;
  else if (running.length) select.value = String(running[0].id);
  pv$("pv-sub").textContent = pv.campaigns.length
    ? `${pv.campaigns.length} campaign${pv.campaigns.length > 1 ? "s" : ""} of your queues · ${running.length} running`
    : "No campaign for your queues yet";
  pvButtons();
}

async function pvLoadCampaigns() {
  try { pv.campaigns = await api("GET", pvAgentPath("/campaigns")) || []; } catch (e) { pvError(e.message); }
  pvCampaigns();
}

function pvButtons() {
  const running = pv.campaigns.some((c) => c.status === "running");
  const busy = !!(pv.record || pv.outcome || pv.calling);
  pv$("pv-get").disabled = !running || busy;
  pv$("pv-empty").hidden = busy;
}

function pvFacts(dl, fields) {
  dl.replaceChildren();
  for (const f of fields || []) {
    dl.append(voiceEl("dt", { text: f.label || f.key }), voiceEl("dd", { text: f.value == null || f.value === "" ? "—" : f.value }));
  }
}

function pvShowRecord(p) {
  pv.record = p;
  pv.outcome = null;
  pv.calling = null;
  pv$("pv-outcome").hidden = true;
  pv$("pv-status").hidden = true;
  pv$("pv-record").hidden = false;
  pv$("pv-decline-box").hidden = true;
  pv$("pv-name").textContent = p.name || p.external_id;
  pv$("pv-meta").textContent = `${p.campaign_name} · record ${p.external_id} · attempts ${p.attempts}${p.last_result ? ` · last: ${p.last_result}` : ""}`;
  pvFacts(pv$("pv-case"), p.case_info);
  pvFacts(pv$("pv-info"), p.record_info);
  const box = pv$("pv-numbers");
  box.querySelectorAll(":scope > :not(legend)").forEach((n) => n.remove());
  let first = true;
  for (const ph of p.phones || []) {
    const input = voiceEl("input", { type: "radio", name: "pv-number", value: String(ph.index) });
    if (ph.blocked) input.disabled = true;
    else if (first) { input.checked = true; first = false; }
    box.append(voiceEl("label", {}, input, document.createTextNode(`${ph.number} (${ph.type})${ph.blocked ? " · on the Do Not Call list" : ""}`)));
  }
  const fresh = voiceEl("input", { type: "radio", name: "pv-number", value: "new", "aria-label": "New number" });
  if (first) fresh.checked = true;
  const number = voiceEl("input", { type: "text", id: "pv-new-number", "aria-label": "New number to call", placeholder: "New number" });
  const kind = voiceEl("select", { id: "pv-new-type", "aria-label": "Number type" },
    ...PREVIEW_PHONE_TYPES.map((t) => voiceEl("option", { value: t, text: t })));
  number.addEventListener("focus", () => { fresh.checked = true; });
  box.append(voiceEl("label", { class: "pv-new" }, fresh, document.createTextNode("New number"), number, kind));
  pv$("pv-call").disabled = false;
  pv$("pv-decline").disabled = false;
  pv$("pv-numbers").hidden = false;
  pv.node.querySelector(".pv-actions").hidden = false;
  pvCountdown();
  pvButtons();
  desk.setItem("preview", { channel: "preview", channelLabel: "Preview record", label: p.name || p.external_id, status: "Preview" });
}

function pvCountdown() {
  const el = pv$("pv-countdown");
  const p = pv.record;
  if (!p || !p.dial_at || pv.calling || pv.outcome) { el.hidden = true; return; }
  const left = Math.max(0, Math.ceil((Date.parse(p.dial_at) - Date.now()) / 1000));
  el.hidden = false;
  el.textContent = left > 0 ? `Auto-dial in ${left} s` : "Dialling…";
  el.dataset.seconds = String(left);
}

function pvClearRecord() {
  pv.record = null;
  pv$("pv-record").hidden = true;
  pv$("pv-countdown").hidden = true;
}

function pvStatus(text) {
  const s = pv$("pv-status");
  s.hidden = !text;
  s.textContent = text || "";
}

function pvShowOutcome(o) {
  pv.outcome = o;
  pv.calling = null;
  const c = o.preview;
  pv$("pv-record").hidden = false;
  pv$("pv-countdown").hidden = true;
  pv$("pv-call").disabled = true;
  pv$("pv-decline").disabled = true;
  pv$("pv-decline-box").hidden = true;
  pv$("pv-numbers").hidden = true;
  pv.node.querySelector(".pv-actions").hidden = true;
  const result = pv$("pv-result");
  result.replaceChildren(...(c.call_results || []).map((r) => voiceEl("option", { value: r.code, text: r.label || r.code })));
  if (o.suggested && (c.call_results || []).some((r) => r.code === o.suggested)) result.value = o.suggested;
  const disp = pv$("pv-dispositions");
  disp.querySelectorAll("label").forEach((l) => l.remove());
  for (const d of c.dispositions || []) {
    disp.append(voiceEl("label", {}, voiceEl("input", { type: "checkbox", value: d.code }), document.createTextNode(d.label || d.code)));
  }
  disp.hidden = !(c.dispositions || []).length;
  pv$("pv-notes").value = "";
  pv$("pv-dnc-box").checked = false;
  pvResultChanged();
  pv$("pv-outcome").hidden = false;
  pvStatus(o.sip_status && o.sip_status !== 200 ? `The call ended (${o.sip_status}). Save the outcome to go on.` : "The call has ended. Save the outcome to go on.");
  pvButtons();
  desk.setItem("preview", { channel: "preview", channelLabel: "Preview record", label: c.name || c.external_id, status: "Outcome" });
}

function pvResultChanged() {
  const c = pv.outcome && pv.outcome.preview;
  const def = c && (c.call_results || []).find((r) => r.code === pv$("pv-result").value);
  pv$("pv-callback-field").hidden = !(def && def.action === "callback");
}

// The session as the dialer has it (a reload, or after an action).
function pvSession(s) {
  pv.session = s;
  if (!s) return;
  if (s.state === "wrapup" && s.preview) {
    pvShowOutcome({ campaign: s.preview.campaign, record: s.preview.record, preview: s.preview, suggested: s.suggested_result, sip_status: s.sip_status });
  } else if (s.state === "previewing" && s.preview) {
    pvShowRecord(s.preview);
  } else if ((s.state === "dialling" || s.state === "starting" || s.state === "connected") && s.preview) {
    pv.record = s.preview;
    pvShowRecord(s.preview);
    pvCalling(s.state === "connected" ? "connected" : "dialling", s.number);
  }
}

function pvCalling(what, number) {
  pv.calling = what;
  pv$("pv-call").disabled = true;
  pv$("pv-decline").disabled = true;
  pv$("pv-decline-box").hidden = true;
  pv$("pv-countdown").hidden = true;
  pv.node.querySelectorAll('input[name="pv-number"], #pv-new-number, #pv-new-type').forEach((i) => { i.disabled = true; });
  pvStatus(what === "connected" ? "Connected: you are talking to the contact." : `Dialling ${number || ""}: answer your phone if it rings.`);
  pvButtons();
  const p = pv.record;
  if (p) desk.setItem("preview", { channel: "preview", channelLabel: "Preview record", label: p.name || p.external_id, status: what === "connected" ? "On call" : "Dialling" });
}

async function pvAct(fn) {
  pvError("");
  try {
    const s = await fn();
    if (s) pvSession(s);
  } catch (e) {
    pvError(e.message);
  }
}

function pvGetRecord() {
  const id = pv$("pv-campaign").value;
  if (!id) { pvError("No running campaign to take a record from."); return; }
  return pvAct(() => api("POST", pvAgentPath(`/campaigns/${encodeURIComponent(id)}/records/next`)));
}

function pvCall() {
  const choice = pv.node.querySelector('input[name="pv-number"]:checked');
  let body = {};
  if (choice && choice.value === "new") {
    const number = pv$("pv-new-number").value.trim();
    if (!number) { pvError("Enter the new number, or choose one of the record's."); return; }
    body = { number, type: pv$("pv-new-type").value };
  } else if (choice) {
    body = { phone: Number(choice.value) };
  }
  return pvAct(() => api("POST", pvRecordPath("call"), body));
}

function pvDecline(kind) {
  const body = { decline: kind };
  if (kind === "call_later" && pv$("pv-retry").value) {
    body.retry_at = new Date(pv$("pv-retry").value).toISOString();
  }
  return pvAct(async () => {
    const s = await api("POST", pvRecordPath("decline"), body);
    pvClearRecord();
    pvNotice(kind === "do_not_call" ? "Record declined: its numbers are on the Do Not Call list." : "Record declined: it will be called later.");
    desk.removeItem("preview");
    return s;
  });
}

async function pvSaveOutcome(ev) {
  ev.preventDefault();
  if (!pv.outcome) return;
  const body = {
    call_result: pv$("pv-result").value,
    dnc: pv$("pv-dnc-box").checked,
    dispositions: [...pv$("pv-dispositions").querySelectorAll("input:checked")].map((i) => i.value),
    notes: pv$("pv-notes").value,
  };
  if (!pv$("pv-callback-field").hidden) {
    const at = pv$("pv-callback").value;
    if (!at) { pvError("Choose when to call back."); return; }
    body.callback = { at: new Date(at).toISOString(), same_agent: true };
  }
  await pvAct(async () => {
    const s = await api("POST", pvRecordPath("outcome"), body);
    pvDone("Outcome saved.");
    return s;
  });
}

function pvDone(text) {
  pv.outcome = null;
  pv.calling = null;
  pvClearRecord();
  pv$("pv-outcome").hidden = true;
  pvStatus("");
  pvNotice(text);
  pvButtons();
  desk.removeItem("preview");
}

desk.on("preview", (ev) => {
  if (!pv.node || ev.agent !== desk.agent) return;
  const n = ev.event || {};
  switch (n.event) {
    case "campaign_status":
      pvNotice(`Campaign ${n.name} ${n.status === "running" ? "started" : (PREVIEW_STATUS[n.status] || n.status).toLowerCase()}.`);
      pvLoadCampaigns();
      break;
    case "preview":
      pvShowRecord(n);
      break;
    case "no_record":
      pvError("The campaign has no record to call now.");
      break;
    case "dialling":
      pvCalling("dialling", n.number);
      break;
    case "connected":
      pvCalling("connected");
      break;
    case "call_ended": {
      const p = pv.record || (pv.session && pv.session.preview);
      if (p) pvShowOutcome({ campaign: p.campaign, record: p.record, preview: p, suggested: n.suggested_result, sip_status: n.sip_status });
      break;
    }
    case "dial_refused":
      pvError(`The call was refused: ${n.reason}`);
      break;
    case "preview_expired":
      pvClearRecord();
      pvNotice("The preview expired: the record went back to the list.");
      desk.removeItem("preview");
      pvButtons();
      break;
    case "lease_lost":
      pvClearRecord();
      pvNotice("The record was taken back (lease lost).");
      desk.removeItem("preview");
      pvButtons();
      break;
    case "save_failed":
      pvError(`Saving failed: ${n.reason}. Try again.`);
      break;
  }
});

desk.onTick(() => { if (pv.node && pv.record && !pv.calling && !pv.outcome) pvCountdown(); });

desk.onBegin(async () => {
  if (!pv.node) {
    pv.node = pvBuild();
    pv$("pv-get").addEventListener("click", pvGetRecord);
    pv$("pv-call").addEventListener("click", pvCall);
    pv$("pv-decline").addEventListener("click", () => {
      const box = pv$("pv-decline-box");
      box.hidden = !box.hidden;
    });
    pv$("pv-later").addEventListener("click", () => pvDecline("call_later"));
    pv$("pv-dnc").addEventListener("click", () => pvDecline("do_not_call"));
    pv$("pv-result").addEventListener("change", pvResultChanged);
    pv$("pv-outcome").addEventListener("submit", pvSaveOutcome);
  }
  await pvLoadCampaigns();
  if (!pv.campaigns.length) return;
  desk.show(pv.node);
  try { pvSession(await api("GET", pvAgentPath("/session"))); } catch (e) { pvError(e.message); }
});

// A campaign appearing later brings the pane.
desk.on("preview", (ev) => {
  if (pv.node && ev.agent === desk.agent && !pv.node.isConnected) desk.show(pv.node);
});

desk.onEnd(() => {
  if (pv.node) desk.hidden(pv.node);
  pv.record = null;
  pv.outcome = null;
  pv.calling = null;
  desk.removeItem("preview");
});
