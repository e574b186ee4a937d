// "My Messages" in the desktop: system notices (campaign news, a missed offer) and the
// agent's voicemail (`/api/voicemail/{extension}` when the account has an extension):
// play (an <audio> on the WAV), mark read, delete; the count of new ones beside the
// title. Loaded after desktop.js and voice.js (it uses voiceEl).
"use strict";

const msgs = {
  notices: [], // { text, at, unread }
  voicemail: [],
  poll: null,
  box: null,
};

function msgExtension() {
  return desk.account && desk.account.extension;
}

function msgTime(ms) {
  const d = new Date(ms);
  return d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function msgCount() {
  const n = msgs.notices.filter((x) => x.unread).length + msgs.voicemail.filter((m) => m.status === "new").length;
  const badge = $("messages-count");
  badge.textContent = String(n);
  badge.hidden = n === 0;
  badge.setAttribute("aria-label", `${n} new message${n === 1 ? "" : "s"}`);
}

function msgNotice(text) {
  msgs.notices.unshift({ text, at: Date.now(), unread: true });
  msgs.notices.length = Math.min(msgs.notices.length, 20);
  msgRenderNotices();
}

function msgRenderNotices() {
  const list = $("notice-list");
  list.replaceChildren();
  for (const n of msgs.notices) {
    const li = voiceEl("li", { class: n.unread ? "unread" : "" },
      voiceEl("span", { class: "msg-text", text: n.text }),
      voiceEl("time", { class: "msg-time", datetime: new Date(n.at).toISOString(), text: msgTime(n.at) }));
    li.addEventListener("click", () => { n.unread = false; msgRenderNotices(); });
    list.append(li);
  }
  list.hidden = msgs.notices.length === 0;
  msgCount();
}

async function msgLoadVoicemail() {
  const ext = msgExtension();
  if (!ext) {
    $("voicemail-empty").textContent = "Your account has no extension: no voicemail.";
    return;
  }
  try {
    const box = await api("GET", `/api/voicemail/${encodeURIComponent(ext)}`);
    msgs.voicemail = (box && box.messages) || [];
    $("messages-error").textContent = "";
  } catch (e) {
    if (e.status === 404) msgs.voicemail = [];
    else $("messages-error").textContent = e.message;
  }
  msgRenderVoicemail();
}

function msgRenderVoicemail() {
  const ext = msgExtension();
  const list = $("voicemail-list");
  // Keep a message that is playing as it is.
  const playing = new Map();
  list.querySelectorAll("li[data-id]").forEach((li) => {
    const audio = li.querySelector("audio");
    if (audio && !audio.paused) playing.set(li.dataset.id, audio);
  });
  list.replaceChildren();
  for (const m of msgs.voicemail) {
    const who = m.from_name ? `${m.from_name} (${m.from_user})` : m.from_user || "Unknown caller";
    const secs = Math.round((m.duration_ms || 0) / 1000);
    const base = `/api/voicemail/${encodeURIComponent(ext)}/${encodeURIComponent(m.id)}`;
    const play = voiceEl("button", { type: "button", class: "secondary small", text: "Play", "aria-label": `Play message from ${who}` });
    const read = voiceEl("button", { type: "button", class: "secondary small", text: "Mark read", "aria-label": `Mark message from ${who} read` });
    const del = voiceEl("button", { type: "button", class: "secondary small", text: "Delete", "aria-label": `Delete message from ${who}` });
    read.hidden = m.status !== "new";
    const li = voiceEl("li", { "data-id": m.id, class: m.status === "new" ? "unread" : "" },
      voiceEl("div", { class: "vm-line" },
        voiceEl("span", { class: "msg-text", text: who }),
        voiceEl("span", { class: "msg-time", text: `${msgTime(m.at_ms)} · ${secs}s` })),
      voiceEl("div", { class: "vm-actions row" }, play, read, del));
    const was = playing.get(m.id);
    if (was) li.append(was);
    play.addEventListener("click", () => {
      let audio = li.querySelector("audio");
      if (!audio) {
        audio = voiceEl("audio", { controls: true, preload: "auto", src: `${base}/audio`, "aria-label": `Message from ${who}` });
        li.append(audio);
      }
      audio.play().catch(() => {});
      if (m.status === "new") msgMarkRead(m);
    });
    read.addEventListener("click", () => msgMarkRead(m));
    del.addEventListener("click", async () => {
      try {
        await api("DELETE", base);
        msgs.voicemail = msgs.voicemail.filter((x) => x.id !== m.id);
        msgRenderVoicemail();
      } catch (e) { $("messages-error").textContent = e.message; }
    });
    list.append(li);
  }
  $("voicemail-empty").hidden = msgs.voicemail.length > 0;
  msgCount();
}

async function msgMarkRead(m) {
  const ext = msgExtension();
  try {
    const saved = await api("POST", `/api/voicemail/${encodeURIComponent(ext)}/${encodeURIComponent(m.id)}/read`);
    m.status = (saved && saved.status) || "saved";
    msgRenderVoicemail();
  } catch (e) { $("messages-error").textContent = e.message; }
}

desk.on("preview", (ev) => {
  if (ev.agent !== desk.agent) return;
  const n = ev.event || {};
  if (n.event === "campaign_status") {
    const what = { loaded: "was loaded", running: "started", paused: "was paused", stopped: "was stopped", completed: "is completed" }[n.status] || n.status;
    msgNotice(`Campaign ${n.name} ${what}.`);
  }
  if (n.event === "preview_expired") msgNotice("A preview record expired and went back to its list.");
});

desk.on("agent_state", (ev) => {
  if (ev.change && ev.change.agent === desk.agent && ev.change.to && ev.change.to.state === "rona") {
    msgNotice(ev.change.cause === "offer_rejected"
      ? "You declined an offer: it went back to its queue (RONA)."
      : "You missed an offer: it went back to its queue (RONA).");
  }
});

desk.onBegin(async () => {
  await msgLoadVoicemail();
  if (msgs.poll) clearInterval(msgs.poll);
  msgs.poll = setInterval(msgLoadVoicemail, 15000);
  msgRenderNotices();
});

desk.onEnd(() => {
  if (msgs.poll) clearInterval(msgs.poll);
  msgs.poll = null;
  msgs.notices = [];
  msgs.voicemail = [];
  $("voicemail-list").replaceChildren();
  msgRenderNotices();
});
