// Voice calls in the desktop: the ACD offer (the phone rings; it is answered there), the
// live call pane (state, timer, legs, and the call controls the REST API has: hold and
// retrieve, consult and its steps, blind transfer, conference with per-party mute and
// remove, hang up), its place in "My interactions", the wrap-up of a queue whose wrap-up
// is manual, and a "Dial" box for agent-placed calls. The pane follows the call's events
// (`call_changed`, `interaction`, `call`) and `GET /api/calls`, so changes made from the
// phone show too. Loaded after desktop.js.
"use strict";

const voiceCalls = new Map(); // call id -> pane
const voiceQueues = new Map(); // queue DN -> its configuration (snapshot)
const voiceQueueNames = new Map(); // queue DN -> its name, from the offers (agents outside its teams have no snapshot of it)
let voicePoll = null;

function voiceEl(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// `1001` of `sip:1001@host`, `"Name" <sip:1001@host>;tag=x` or a bare `1001`.
function voiceUser(uri) {
  let s = String(uri || "");
  const a = s.indexOf("<");
  const b = s.indexOf(">");
  if (a >= 0 && b > a) s = s.slice(a + 1, b);
  s = s.replace(/^(sips?|tel):/, "");
  const end = s.search(/[@;>]/);
  return end >= 0 ? s.slice(0, end) : s;
}

// The pane's words for where the call stands.
function voiceStateLabel(call) {
  if (!call) return "Ended";
  switch (call.phase) {
    case "routing": return call.attempt != null ? "Ringing your phone" : "Connecting";
    case "ringing": return "Ringing";
    case "queued": return "Ringing";
    case "transferring": return "Transferring";
    case "consulting": return "Consulting";
    case "conference": return "Conference";
    case "voicemail": return "Voicemail";
    case "ended": return "Ended";
    default:
      return (call.legs || []).some((l) => l.hold && l.hold !== "off") ? "On hold" : "Talking";
  }
}

// The customer's leg of a two-party call: the one that is not the agent's phone.
function voiceCustomerLeg(call) {
  const legs = call.legs || [];
  const i = legs.findIndex((l) => l.agent !== desk.agent && l.party !== voicePhone());
  return i >= 0 ? i : 0;
}

function voicePhone() {
  return (desk.account && desk.account.extension) || desk.agent;
}

// Whether the call is one the pane shows: mine, past the offer.
function voiceMine(call) {
  if (call.agent !== desk.agent) return false;
  if (call.phase === "queued" || call.phase === "ended") return false;
  return !(call.interaction != null && call.phase === "routing");
}

async function voiceList() {
  return (await api("GET", "/api/calls")) || [];
}

// ---- the offer ----

desk.offerKinds.voice = {
  title: "Incoming call",
  label: "Phone call",
  sub: "Your phone is ringing",
  note: "Answer on your phone. Decline sends the call back to the queue for the next agent.",
  accept: null,
  // The offer names the interaction; the call that is it declines.
  decline: async (offer) => {
    const calls = await api("GET", "/api/calls");
    const call = calls.find((c) => c.interaction === offer.interaction);
    if (!call) throw new Error("The call is no longer ringing for you.");
    return api("POST", `/api/calls/${encodeURIComponent(call.id)}/decline`);
  },
};

desk.on("snapshot", (ev) => {
  for (const q of ev.queues || []) if (q.config) voiceQueues.set(q.config.dn, q.config);
});
desk.on("queue_changed", (ev) => { if (ev.queue && ev.config) voiceQueues.set(ev.queue, ev.config); });

desk.on("offer", async (ev) => {
  if (ev.agent !== desk.agent || ev.channel !== "voice") return;
  let call = null;
  try { call = (await voiceList()).find((c) => c.interaction === ev.interaction); } catch (_) { /* shown without */ }
  const q = voiceQueues.get(ev.queue);
  const name = ev.queue_name || (q && q.name);
  if (name) voiceQueueNames.set(ev.queue, name);
  showOffer({
    ...ev,
    channel: "voice",
    customer: call ? voiceUser(call.from) : "Caller",
    queue_name: name,
    arrived_ms: call ? call.started_ms : Date.now(),
  });
});

desk.on("interaction", (ev) => {
  if (ev.event === "answered" && ev.agent === desk.agent && desk.offer
      && desk.offer.channel === "voice" && desk.offer.interaction === ev.interaction) {
    hideOffer();
  }
  if (ev.event === "answered" && ev.agent === desk.agent) voiceSync();
  if (ev.event === "ended" && [...voiceCalls.values()].some((p) => p.interaction === ev.interaction)) voiceSync();
});

desk.on("call_changed", (ev) => {
  const call = ev.call;
  if (!call) return;
  let pane = voiceCalls.get(call.id);
  if (pane && pane.ended) pane = null; // over for this agent: later changes are not its
  if (ev.change === "hung_up" && pane) pane.notice.textContent = "Hanging up…";
  if (ev.change === "transfer_failed" && pane) pane.notice.textContent = `Transfer failed: ${ev.detail || "no answer"}. The caller is back with you.`;
  if (ev.change === "consult_failed" && pane) pane.notice.textContent = `Consultation failed: ${ev.detail || "no answer"}.`;
  if (ev.change === "party_failed" && pane) pane.notice.textContent = `Could not add the party: ${ev.detail || "no answer"}.`;
  if (ev.change === "transferred" && pane) {
    pane.transferred = true;
    if (desk.phoneTransferred) desk.phoneTransferred(pane.customer);
  }
  if (pane && (ev.change === "muted" || ev.change === "unmuted") && ev.detail != null) {
    if (ev.change === "muted") pane.muted.add(Number(ev.detail));
    else pane.muted.delete(Number(ev.detail));
  }
  if (pane && (ev.change === "party_left" || ev.change === "conference_left")) pane.muted.clear();
  if (voiceMine(call)) voiceShow(call);
  else if (pane) voiceSync();
});

desk.on("call", (ev) => {
  if (ev.agent !== desk.agent) return;
  voiceSync();
  if (ev.state === "ended") {
    for (const pane of voiceCalls.values()) {
      if (pane.view.attempt === ev.attempt && ev.sip_status && ev.sip_status !== 200) {
        pane.notice.textContent = `The call ended (${ev.sip_status}).`;
      }
    }
  }
});

// ---- the pane ----

// Brings the panes in line with the live calls: new ones opened, gone ones ended.
async function voiceSync() {
  let calls;
  try { calls = await voiceList(); } catch (_) { return; }
  const live = new Set();
  for (const call of calls) {
    if (!voiceMine(call)) continue;
    live.add(call.id);
    voiceShow(call);
  }
  for (const pane of [...voiceCalls.values()]) {
    if (!live.has(pane.id) && !pane.ended) voiceEnded(pane);
  }
  voiceArmPoll();
}

// While a call is up, the pane also polls: a hold from the phone, a party leaving.
function voiceArmPoll() {
  const active = [...voiceCalls.values()].some((p) => !p.ended);
  if (active && !voicePoll) voicePoll = setInterval(voiceSync, 2000);
  if (!active && voicePoll) { clearInterval(voicePoll); voicePoll = null; }
}

function voiceShow(call) {
  let pane = voiceCalls.get(call.id);
  if (!pane) pane = voiceOpen(call);
  if (pane.ended) return;
  pane.view = call;
  voiceRender(pane);
  voiceListItem(pane);
}

// "Sales (8000)", or the DN alone when its name is not known here.
function voiceQueueLabel(dn, q) {
  const name = (q && q.name) || voiceQueueNames.get(dn);
  return name ? `${name} (${dn})` : dn;
}

function voiceOpen(call) {
  const inbound = call.interaction != null;
  const customer = inbound ? voiceUser(call.from) : voiceUser(call.to);
  const queue = inbound ? voiceUser(call.to) : null;
  const q = queue ? voiceQueues.get(queue) : null;
  const title = voiceEl("h2", { class: "voice-customer", text: customer });
  const sub = voiceEl("div", {
    class: "chat-sub",
    text: inbound ? `${voiceQueueLabel(queue, q)} · call #${call.interaction}` : `Outbound call to ${customer}`,
  });
  const state = voiceEl("span", { class: "voice-state", role: "status", "aria-label": "Call state" });
  const timer = voiceEl("span", { class: "voice-timer", "aria-label": "Call time", text: "00:00" });
  const head = voiceEl("header", { class: "chat-head" },
    voiceEl("span", { class: "channel-icon small", role: "img", "aria-label": "Phone call", title: "Phone call" }, icon("voice")),
    voiceEl("div", { class: "chat-title" }, title, sub),
    voiceEl("div", { class: "voice-now" }, state, timer));
  const notice = voiceEl("div", { class: "notice chat-notice", role: "status" });
  const legs = voiceEl("ul", { class: "voice-legs", "aria-label": "Parties" });
  const target = voiceEl("input", { type: "text", class: "voice-target", "aria-label": "Target",
    placeholder: "Number, queue or voicemail (e.g. 1003)", autocomplete: "off" });
  const error = voiceEl("p", { class: "error", role: "alert" });
  const buttons = {};
  const button = (name, cls, fn) => {
    const b = voiceEl("button", { type: "button", class: cls, text: name });
    b.addEventListener("click", () => fn());
    buttons[name] = b;
    return b;
  };
  const node = voiceEl("article", { class: "card voice-pane", "aria-label": `Call with ${customer}` },
    head, notice,
    voiceEl("div", { class: "voice-body" },
      voiceEl("h3", { class: "section-title", text: "Parties" }), legs,
      voiceEl("div", { class: "voice-controls row" }),
      voiceEl("h3", { class: "section-title", text: "Consult, transfer or add a party" }),
      voiceEl("div", { class: "voice-target-row row" }, target),
      voiceEl("div", { class: "voice-consult row" }),
      error));
  const pane = {
    id: call.id, view: call, node, state, timer, notice, legs, target, error, buttons,
    customer, queue, interaction: call.interaction, ended: false, transferred: false,
    muted: new Set(), // conference members muted, by their place in the call's legs
  };
  const act = (fn) => async () => {
    error.textContent = "";
    try { const v = await fn(); if (v && v.id && !pane.ended) { pane.view = v; voiceRender(pane); } } catch (e) { error.textContent = e.message; }
  };
  const path = (tail) => `/api/calls/${encodeURIComponent(pane.id)}${tail}`;
  const leg = () => voiceCustomerLeg(pane.view);
  const needTarget = (fn) => act(async () => {
    const t = target.value.trim();
    if (!t) throw new Error("Enter a number, queue or voicemail first.");
    const v = await fn(t);
    target.value = "";
    return v;
  });
  const controls = node.querySelector(".voice-controls");
  controls.append(
    button("Hold", "secondary", act(() => api("POST", path(`/legs/${leg()}/hold`)))),
    button("Retrieve", "good", act(() => api("POST", path(`/legs/${leg()}/retrieve`)))),
    button("Hang up", "danger", act(() => api("POST", path("/hangup")))));
  node.querySelector(".voice-target-row").append(
    button("Consult", "secondary", needTarget((t) => api("POST", path("/consult"), { target: t }))),
    button("Transfer", "secondary", needTarget((t) => api("POST", path("/transfer"), { target: t }))),
    button("Add to conference", "secondary", needTarget((t) => api("POST", path("/conference"), { target: t }))));
  node.querySelector(".voice-consult").append(
    button("Alternate", "secondary", act(() => api("POST", path("/alternate")))),
    button("End consult", "secondary", act(() => api("POST", path("/end-consult")))),
    button("Complete transfer", "secondary", act(() => api("POST", path("/complete-transfer")))),
    button("Complete conference", "secondary", act(() => api("POST", path("/complete-conference")))));
  target.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); buttons.Transfer.click(); } });
  voiceCalls.set(call.id, pane);
  desk.show(node);
  return pane;
}

function voiceRender(pane) {
  const call = pane.view;
  const label = voiceStateLabel(call);
  pane.state.textContent = label;
  pane.state.dataset.state = label.toLowerCase().replace(/\s+/g, "-");
  pane.node.dataset.state = pane.state.dataset.state;
  const b = pane.buttons;
  const two = call.phase === "talking";
  const held = two && (call.legs || [])[voiceCustomerLeg(call)]?.hold === "held";
  b.Hold.hidden = held || !two;
  b.Retrieve.hidden = !held;
  b.Consult.disabled = !two || held;
  b.Transfer.disabled = !two;
  b["Add to conference"].hidden = call.phase !== "conference";
  b.Consult.hidden = call.phase === "conference";
  b.Transfer.hidden = call.phase === "conference";
  pane.node.querySelector(".voice-consult").hidden = call.phase !== "consulting";
  if (!pane.notice.textContent || pane.notice.dataset.auto) {
    pane.notice.dataset.auto = "1";
    pane.notice.textContent = {
      "On hold": `${pane.customer} is on hold and hears music.`,
      Consulting: `${pane.customer} is on hold while you consult.`,
      Conference: "Everyone on the call hears each other.",
      Transferring: `${pane.customer} is being transferred.`,
      "Ringing your phone": "Answer your phone: the number is dialled once you do.",
      Ringing: `Calling ${pane.customer}…`,
    }[label] || `You are on a call with ${pane.customer}.`;
  }
  voiceLegs(pane);
  voiceTick(pane);
  if (desk.phoneRefresh) desk.phoneRefresh();
}

// The agent's live call for the Phone card (phone.js): where it stands ("On hold" while
// the caller is held or waits during a consultation), and Hold / Retrieve of the
// customer's leg over REST, the pane following. `null` with no call up.
desk.voiceNow = () => {
  const pane = [...voiceCalls.values()].reverse().find((p) => !p.ended);
  if (!pane) return null;
  const call = pane.view;
  const label = voiceStateLabel(call);
  const step = (s) => async () => {
    pane.error.textContent = "";
    const v = await api("POST", `/api/calls/${encodeURIComponent(pane.id)}/legs/${voiceCustomerLeg(pane.view)}/${s}`);
    if (v && v.id && !pane.ended) { pane.view = v; voiceRender(pane); }
  };
  const two = call.phase === "talking";
  const retrievable = two && (call.legs || [])[voiceCustomerLeg(call)]?.hold === "held";
  const others = (call.legs || []).filter((l) => l.agent !== desk.agent && l.party !== voicePhone());
  return {
    label,
    held: label === "On hold" || label === "Consulting",
    // Whom the agent consults (the call's last party), while the caller waits.
    consulting: label === "Consulting" ? (others.length > 1 ? others[others.length - 1].party : "") || "a colleague" : null,
    canHold: two && !retrievable,
    canRetrieve: retrievable,
    hold: step("hold"),
    retrieve: step("retrieve"),
  };
};

function voiceLegs(pane) {
  const call = pane.view;
  const conference = call.phase === "conference";
  const muted = pane.muted;
  pane.legs.replaceChildren();
  (call.legs || []).forEach((leg, i) => {
    const mine = leg.agent === desk.agent || leg.party === voicePhone();
    // The agent's own leg by their extension: a browser phone's leg reaches its random
    // WebSocket contact, which means nothing to the agent.
    const who = mine ? `You (${voicePhone()})` : leg.party || `Party ${i + 1}`;
    const consulting = call.phase === "consulting";
    const hold = { held: "on hold", holding: "holding" }[leg.hold]
      || (consulting && i === 0 && !mine ? "on hold" : "")
      || (consulting && i === (call.legs || []).length - 1 && !mine ? "consulted" : "")
      || (conference && muted.has(i) ? "muted" : "");
    const li = voiceEl("li", { "data-leg": String(i) },
      voiceEl("span", { class: "voice-party", text: who }),
      voiceEl("span", { class: "state", text: hold }));
    if (conference && !mine) {
      const isMuted = muted.has(i);
      const step = (s) => async () => {
        pane.error.textContent = "";
        try {
          pane.view = await api("POST", `/api/calls/${encodeURIComponent(pane.id)}/legs/${i}/${s}`);
          if (s === "mute") muted.add(i);
          if (s === "unmute") muted.delete(i);
          if (s === "remove") muted.clear();
          voiceRender(pane);
        } catch (e) { pane.error.textContent = e.message; }
      };
      const mute = voiceEl("button", { type: "button", class: "secondary small", text: isMuted ? "Unmute" : "Mute", "aria-label": `${isMuted ? "Unmute" : "Mute"} ${leg.party}` });
      mute.addEventListener("click", step(isMuted ? "unmute" : "mute"));
      const remove = voiceEl("button", { type: "button", class: "secondary small", text: "Remove", "aria-label": `Remove ${leg.party}` });
      remove.addEventListener("click", step("remove"));
      li.append(mute, remove);
    }
    pane.legs.append(li);
  });
}

// Time since the answer (before it, since the start), counted on this machine's clock
// from the first view that had it: a server clock ahead of ours does not freeze it.
function voiceTick(pane) {
  if (pane.ended) return;
  const call = pane.view;
  const key = call.answered_ms ? "answered" : "started";
  if (pane.anchorKey !== key) {
    pane.anchorKey = key;
    pane.anchor = Math.min(call.answered_ms || call.started_ms || Date.now(), Date.now());
  }
  pane.timer.textContent = clock(Date.now() - pane.anchor);
}

function voiceListItem(pane) {
  desk.setItem(`call-${pane.id}`, {
    channel: "voice",
    channelLabel: "Phone call",
    label: pane.customer,
    status: pane.ended ? (pane.wrapping ? "Wrap-up" : "Ended") : voiceStateLabel(pane.view),
  });
}

// The call is over for this agent: the pane says so, then wrap-up (manual queues) or close.
function voiceEnded(pane) {
  pane.ended = true;
  pane.node.classList.add("ended");
  pane.state.textContent = "Ended";
  pane.state.dataset.state = "ended";
  pane.node.dataset.state = "ended";
  delete pane.notice.dataset.auto;
  pane.notice.textContent = pane.transferred ? `${pane.customer} was transferred: the call has ended for you.` : "The call has ended.";
  pane.notice.classList.add("ended");
  pane.node.querySelectorAll("button, input").forEach((b) => { b.disabled = true; });
  if (desk.phoneRefresh) desk.phoneRefresh();
  const q = pane.queue ? voiceQueues.get(pane.queue) : null;
  const manual = q && q.wrap_up && q.wrap_up.mode === "manual";
  if (pane.interaction != null && manual) {
    pane.wrapping = true;
    voiceListItem(pane);
    desk.wrapUp({
      label: `Call with ${pane.customer} · #${pane.interaction}`,
      codes: [],
      submit: async () => {
        // The wrap-up is done: Ready (or the state chosen meanwhile). Already out of
        // After-Call Work (the agent chose a state), there is nothing left to finish.
        try {
          const view = (await api("POST", `/api/agents/${encodeURIComponent(desk.agent)}/wrap-up`)).agent;
          setState(view.state, view.state_since_ms);
        } catch (e) {
          if (e.status !== 409) throw e;
        }
        voiceClose(pane);
      },
    });
  } else {
    voiceListItem(pane);
    setTimeout(() => voiceClose(pane), 5000);
  }
  voiceArmPoll();
}

function voiceClose(pane) {
  if (voiceCalls.get(pane.id) !== pane) return;
  voiceCalls.delete(pane.id);
  desk.hidden(pane.node);
  desk.removeItem(`call-${pane.id}`);
}

desk.onTick(() => { for (const pane of voiceCalls.values()) voiceTick(pane); });

// ---- agent-placed calls ----

async function voiceDial(ev) {
  ev.preventDefault();
  const input = $("dial-number");
  const number = input.value.trim();
  $("dial-error").textContent = "";
  if (!number) { $("dial-error").textContent = "Enter a number to call."; return; }
  try {
    // The browser phone (phone.js) places the call itself; a desk phone is called first.
    if (desk.placeCall && desk.placeCall(number)) { input.value = ""; return; }
    await api("POST", "/api/calls", { extension: voicePhone(), number, agent: desk.agent });
    input.value = "";
    $("dial-error").textContent = "";
    $("dial-status").textContent = `Calling ${number}: answer your phone.`;
    setTimeout(voiceSync, 500);
  } catch (e) {
    $("dial-error").textContent = e.message;
  }
}

desk.onBegin(async () => {
  const form = $("dial-form");
  if (form && !form.dataset.wired) {
    form.dataset.wired = "1";
    form.addEventListener("submit", voiceDial);
  }
  await voiceSync();
});

desk.onEnd(() => {
  for (const pane of [...voiceCalls.values()]) voiceClose(pane);
  voiceArmPoll();
});
