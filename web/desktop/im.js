// Agent-to-agent IM in the desktop: the invitation pop-up (Accept / Decline), the IM
// window (status, case data of an IM consult, transcript with names and times, composer,
// "End session", "Mark Done", "Start voice consult" for a call), on /api/im and the
// im_* events of /api/events. Loaded after desktop.js and directory.js.
"use strict";

const ims = new Map();
// Windows whose invitation is being sent (no session id yet).
const composing = [];
const IM_STATUS = {
  new: "New message",
  invited: "Inviting…",
  connected: "Connected",
  declined: "Declined",
  timed_out: "Timed out (no answer)",
  ended: "Ended",
};

function peerOf(s) {
  return s.from.id === desk.account.id ? s.to : s.from;
}

function imPane(key, peer) {
  const node = $("im-template").content.firstElementChild.cloneNode(true);
  node.setAttribute("aria-label", `IM with ${peer.name}`);
  node.querySelector(".im-peer").textContent = peer.name;
  node.querySelector(".im-sub").textContent = peer.phone ? `phone ${peer.id} · SIP MESSAGE` : "Internal IM";
  const w = {
    key,
    id: null,
    peer,
    session: null,
    node,
    status: node.querySelector(".im-status"),
    transcript: node.querySelector(".transcript[role=\"log\"]"),
    box: node.querySelector("textarea"),
    error: node.querySelector(".composer-error"),
    seen: new Set(),
  };
  node.querySelector(".composer").addEventListener("submit", (e) => { e.preventDefault(); imSend(w); });
  w.box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); imSend(w); }
  });
  w.box.addEventListener("input", () => { w.error.textContent = ""; });
  node.querySelector(".im-end").addEventListener("click", () => imEnd(w));
  node.querySelector(".im-done").addEventListener("click", () => imDone(w));
  node.querySelector(".im-consult").addEventListener("click", () => imVoiceConsult(w));
  desk.show(node);
  return w;
}

// What the window says about where the session stands (the sender is told which answer).
function imNotice(w, status) {
  const peer = w.peer.name;
  const ender = w.session && w.session.ended_by;
  const by = ender === desk.account.id ? " (you ended it)" : ender && ender !== "restart" ? ` (${peer} ended it)` : "";
  switch (status) {
    case "new": return `Write the first message to invite ${peer}.`;
    case "invited": return `Waiting for ${peer} to accept…`;
    case "connected": return w.peer.phone ? `Messages go to phone ${w.peer.id} as SIP MESSAGE.` : `Connected with ${peer}.`;
    case "declined": return `${peer} declined the invitation.`;
    case "timed_out": return `${peer} did not answer in time.`;
    case "ended": return `The session has ended${by}.`;
    default: return "";
  }
}

function imSetStatus(w, status) {
  w.node.querySelector(".im-notice").textContent = imNotice(w, status);
  w.status.textContent = IM_STATUS[status] || status;
  w.node.dataset.status = status;
  const over = ["declined", "timed_out", "ended"].includes(status);
  w.node.querySelector(".im-end").disabled = over || status === "new";
  w.box.disabled = over || status === "invited";
  w.node.querySelector(".composer button").disabled = w.box.disabled;
  if (w.id !== null) {
    desk.setItem(`im-${w.id}`, { channel: "im", channelLabel: "IM", label: w.peer.name, status: IM_STATUS[status] || status });
  }
}

function imAdd(w, m) {
  const key = `${m.at_ms}|${m.from}|${m.text}`;
  if (w.seen.has(key)) return;
  w.seen.add(key);
  const mine = m.from === desk.account.id;
  const entry = transcriptEntry({ sender: m.sender, at_ms: m.at_ms, text: m.text, role: mine ? "agent" : "customer" }, mine);
  w.transcript.append(entry);
  w.transcript.scrollTop = w.transcript.scrollHeight;
}

function imCase(w, c) {
  const box = w.node.querySelector(".im-case");
  if (!c) { box.hidden = true; return; }
  box.hidden = false;
  const dl = box.querySelector("dl");
  dl.replaceChildren();
  const row = (k, v) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  };
  row("Customer", c.customer || c.caller_number || "—");
  row("Queue", c.queue_name ? `${c.queue_name} (${c.queue})` : c.queue);
  row("Channel", c.channel);
  if (c.caller_number) row("Caller", c.caller_number);
  const t = box.querySelector(".im-case-transcript");
  t.replaceChildren();
  for (const m of c.transcript || []) t.append(transcriptEntry(m, false));
  t.hidden = !(c.transcript && c.transcript.length);
  const mineCall = c.channel === "voice" && w.session && w.session.from.id === desk.account.id;
  w.node.querySelector(".im-consult").hidden = !mineCall;
}

// A session (new or changed) into its window, opening one if needed.
function imShow(s) {
  let w = ims.get(s.id);
  if (!w && s.from.id === desk.account.id) {
    // My invitation's event may come before the answer to my POST: its window is mine.
    w = composing.find((c) => c.id === null && c.to === peerOf(s).id);
    if (w) {
      w.id = s.id;
      w.peer = peerOf(s);
      ims.set(s.id, w);
    }
  }
  if (!w) {
    w = imPane(`im-${s.id}`, peerOf(s));
    w.id = s.id;
    ims.set(s.id, w);
  }
  w.session = s;
  w.node.dataset.session = s.id;
  for (const m of s.messages || []) imAdd(w, m);
  imCase(w, s.case);
  imSetStatus(w, s.status);
  return w;
}

// "IM" in the directory: a window to write the invitation's first message in.
function imCompose(person) {
  for (const w of ims.values()) {
    if (w.peer.id === person.id && !["declined", "timed_out", "ended"].includes(w.session && w.session.status)) {
      w.box.focus();
      return;
    }
  }
  const w = imPane(`new-${person.id}`, { id: person.id, name: person.name, phone: !!person.phone });
  w.to = person.id;
  // An IM consult: about one of my live interactions (its case data goes with it).
  const about = w.node.querySelector(".im-about");
  for (const [key, item] of desk.items) {
    const m = /^(chat|voice|call)-(\d+)$/.exec(key);
    if (!m || person.phone) continue;
    const o = document.createElement("option");
    o.value = m[2];
    o.textContent = `${item.label} (${item.channelLabel || item.channel})`;
    about.append(o);
  }
  w.node.querySelector(".im-about-row").hidden = about.options.length < 2;
  imSetStatus(w, "new");
  w.box.focus();
}

async function imSend(w) {
  const text = w.box.value;
  if (!text.trim()) return;
  w.error.textContent = "";
  try {
    if (w.id === null) {
      composing.push(w);
      let s;
      try {
        const about = w.node.querySelector(".im-about").value;
        const body = { to: w.to, text };
        if (about) body.interaction = Number(about);
        s = await api("POST", "/api/im", body);
      } finally {
        composing.splice(composing.indexOf(w), 1);
      }
      w.id = s.id;
      w.peer = peerOf(s);
      w.node.querySelector(".im-sub").textContent = w.peer.phone ? `phone ${w.peer.id} · SIP MESSAGE` : "Internal IM";
      ims.set(s.id, w);
      w.node.querySelector(".im-about-row").hidden = true;
      imShow(s);
    } else {
      imAdd(w, await api("POST", `/api/im/${w.id}/messages`, { text }));
    }
    w.box.value = "";
  } catch (e) {
    w.error.textContent = e.message;
  }
}

async function imEnd(w) {
  if (w.id === null) return;
  try { imShow(await api("POST", `/api/im/${w.id}/end`)); } catch (e) { w.error.textContent = e.message; }
}

async function imDone(w) {
  try {
    if (w.id !== null) await api("POST", `/api/im/${w.id}/done`);
  } catch (e) {
    if (e.status !== 404) { w.error.textContent = e.message; return; }
  }
  desk.hidden(w.node);
  if (w.id !== null) { ims.delete(w.id); desk.removeItem(`im-${w.id}`); }
}

async function imVoiceConsult(w) {
  const c = w.session && w.session.case;
  if (!c) return;
  try {
    const calls = await api("GET", "/api/calls");
    const call = (calls.calls || calls || [])[0];
    if (!call) throw new Error("no live call of yours to consult from");
    await api("POST", `/api/calls/${encodeURIComponent(call.id)}/consult`, { target: c.consult_target });
    w.error.textContent = "";
    w.node.querySelector(".im-notice").textContent = `Voice consult with ${w.peer.name} started.`;
  } catch (e) {
    w.error.textContent = e.message;
  }
}

// ---- the invitation pop-up ----

const invites = [];

function showInvite() {
  const s = invites[0];
  const box = $("im-invite");
  if (!s) { box.hidden = true; return; }
  $("im-invite-from").textContent = s.from.name;
  const first = (s.messages || [])[0];
  $("im-invite-text").textContent = first ? first.text : "";
  $("im-invite-case").textContent = s.case ? `About ${s.case.customer || "an interaction"} (${s.case.channel}, queue ${s.case.queue_name || s.case.queue})` : "";
  $("im-invite-error").textContent = "";
  box.hidden = false;
}

function dropInvite(id) {
  const i = invites.findIndex((s) => s.id === id);
  if (i >= 0) invites.splice(i, 1);
  showInvite();
}

async function answerInvite(accept) {
  const s = invites[0];
  if (!s) return;
  try {
    const r = await api("POST", `/api/im/${s.id}/${accept ? "accept" : "decline"}`);
    dropInvite(s.id);
    if (accept) imShow(r).box.focus();
  } catch (e) {
    $("im-invite-error").textContent = e.message;
    if (e.status === 409) setTimeout(() => dropInvite(s.id), 1500);
  }
}

desk.on("im_invite", (ev) => {
  if (ev.session.to.id !== desk.account.id) { imShow(ev.session); return; }
  if (!invites.some((s) => s.id === ev.session.id)) invites.push(ev.session);
  showInvite();
});
for (const type of ["im_accepted", "im_declined", "im_timeout", "im_ended"]) {
  desk.on(type, (ev) => {
    if (ims.has(ev.session.id)) imShow(ev.session);
    dropInvite(ev.session.id);
  });
}
desk.on("im_message", (ev) => {
  const w = ims.get(ev.session.id);
  if (w) imAdd(w, ev.message); else imShow(ev.session);
});

desk.onBegin(async () => {
  for (const s of await api("GET", "/api/im")) {
    if (s.status === "invited" && s.to.id === desk.account.id) { invites.push(s); showInvite(); } else imShow(s);
  }
});
desk.onEnd(() => {
  for (const w of ims.values()) desk.hidden(w.node);
  ims.clear();
  invites.length = 0;
  showInvite();
});

document.addEventListener("DOMContentLoaded", () => {
  $("im-accept").addEventListener("click", () => answerInvite(true));
  $("im-decline").addEventListener("click", () => answerInvite(false));
});
