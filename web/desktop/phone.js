// The Phone card of the desktop with the browser softphone (softphone.js): the phone mode
// ("Browser phone" or "Desk phone", remembered per agent with the chosen microphone and
// speaker), the registration badge, the ring with Answer/Decline (the ACD's voice offer
// pop-up answers in one click), Mute and Hang up, the keypad (digits into the number, or
// DTMF to the call), Hold / Retrieve (the switch's, as in the call pane), and Dial placing
// the call from the browser. Consult, transfer and conference stay on the call pane
// (voice.js), which drives the switch's REST call control whatever the phone. An ES
// module loaded after the classic scripts; it reaches their globals (`desk`, `$`,
// `showOffer`, `clock`) and the pane's `desk.voiceNow()`.
import { Softphone } from "./softphone.js";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const REG_LABELS = {
  stopped: "Desk phone", connecting: "Connecting…", registering: "Registering…", registered: "Registered",
  disconnected: "Reconnecting…", failed: "Not registered",
};
const STATE_LABELS = {
  ringing: "Ringing", answering: "Answering…", dialling: "Calling…", early: "Ringing", talking: "Talking", ended: "Ended",
};

const PEER_HUNG_UP = "The other party hung up."; // softphone.js's reason for a BYE
// What the switch does with a talking call that the browser phone cannot see itself.
const SWITCH_LABELS = { Transferring: "Transferring…", Conference: "Conference" };
const phone = { sp: null, mode: "desk", settings: { mode: "desk", mic: "", speaker: "" }, call: null, ended: null, transferred: null, endTimer: null };
globalThis.deskPhone = phone; // for the voice pane: which phone the agent uses

const key = () => `ccswitch.phone.${desk.agent}`;
const trace = () => { try { return localStorage.getItem("ccswitch.sipTrace") === "1"; } catch (_) { return false; } };

function load() {
  try { return { mode: "desk", mic: "", speaker: "", ...JSON.parse(localStorage.getItem(key()) || "{}") }; } catch (_) { return { mode: "desk", mic: "", speaker: "" }; }
}

function save() {
  try { localStorage.setItem(key(), JSON.stringify(phone.settings)); } catch (_) { /* private mode: not remembered */ }
}

// ---- registration ----

function showReg(state, detail) {
  const badge = $("phone-reg");
  badge.textContent = REG_LABELS[state] || state;
  badge.dataset.state = phone.mode === "browser" ? state : "desk";
  badge.title = detail || "";
  $("phone-reg-detail").textContent = phone.mode === "browser" && detail ? detail : "";
}

async function start() {
  if (phone.sp) return;
  const ext = desk.account && desk.account.extension;
  if (!ext) { showReg("failed", "This account has no extension for a browser phone."); return; }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  phone.sp = new Softphone({
    url: `${scheme}://${location.host}/sip`,
    user: ext,
    domain: location.hostname,
    displayName: (desk.account && desk.account.name) || "",
    speaker: $("speaker"),
    onState: showReg,
    onChange: (_, call) => render(call),
    onNotice: (_, text) => { $("dial-status").textContent = text; },
    // A SIP trace in the browser console for support: localStorage["ccswitch.sipTrace"] = "1".
    log: (kind, text) => { if (trace()) console.debug(`sip ${kind}\n${text}`); },
  });
  phone.sp.setDevices(phone.settings);
  phone.sp.start();
}

async function stop() {
  const sp = phone.sp;
  phone.sp = null;
  if (sp) await sp.stop();
  showReg("stopped");
  render(null);
}

async function setMode(mode) {
  phone.mode = mode;
  phone.settings.mode = mode;
  save();
  document.body.classList.toggle("browser-phone", mode === "browser");
  $("phone-mode").value = mode;
  voiceOffer();
  if (mode === "browser") await start();
  else await stop();
  if (desk.offer && desk.offer.channel === "voice") showOffer(desk.offer);
}

// ---- the call strip ----

function render(call) {
  if (call && call.state === "ended") {
    if (phone.call === call || !phone.call) {
      phone.call = null;
      phone.ended = call;
      $("dial-status").textContent = endText(call);
    }
  } else if (call) {
    if (phone.call !== call) phone.transferred = null;
    phone.call = call;
  }
  if (phone.call && phone.call.state !== "ringing") $("dial-status").textContent = "";
  showStrip();
  tick();
  // The ACD's pop-up follows the ring: Answer appears once the INVITE is here.
  if (desk.offer && desk.offer.channel === "voice" && phone.mode === "browser") showOffer(desk.offer);
}

// Why the call ended, in the agent's words: the switch's BYE after a transfer is the
// caller going on to the target, not a hang-up.
function endText(call) {
  if (phone.transferred && call.endReason === PEER_HUNG_UP) return `${phone.transferred} was transferred.`;
  return call.endReason || "The call has ended.";
}

// The call pane saw the transfer complete (its `transferred` event may come before or
// after the switch's BYE to the browser).
desk.phoneTransferred = (who) => {
  phone.transferred = who || "The caller";
  if (!phone.call && phone.ended) $("dial-status").textContent = endText(phone.ended);
};

// The strip shows the browser phone's call; while the switch holds the caller (Hold in the
// desktop, or a consultation) it says "On hold" and its Hold button reads Retrieve. The
// hold is the switch's (the browser's own stream is not renegotiated), so it comes from
// the call pane's view of the call (voice.js), which follows the call's events.
function showStrip() {
  const c = phone.call;
  const strip = $("phone-call");
  strip.hidden = !c;
  if (c) {
    const v = c.state === "talking" && desk.voiceNow ? desk.voiceNow() : null;
    const held = Boolean(v && v.held);
    strip.dataset.state = held ? "held" : c.state;
    const { name, number } = c.party;
    // "Sales: 5550301" (the ACD's display name) already says the number.
    $("phone-party").textContent = name && !name.includes(number) ? `${name} (${number})` : name || number;
    $("phone-call-state").textContent = held ? "On hold" : SWITCH_LABELS[v && v.label] || STATE_LABELS[c.state] || c.state;
    $("phone-call-dir").textContent = v && v.consulting != null
      ? `Consulting ${v.consulting}: the caller is on hold`
      : c.direction === "in" ? "Incoming" : "Outgoing";
    $("phone-answer").hidden = !(c.direction === "in" && c.state === "ringing");
    $("phone-decline").hidden = !(c.direction === "in" && c.state === "ringing");
    $("phone-mute").hidden = c.state !== "talking";
    $("phone-mute").textContent = c.muted ? "Unmute" : "Mute";
    $("phone-mute").setAttribute("aria-pressed", String(c.muted));
    const hold = $("phone-hold");
    hold.hidden = !(v && (v.canHold || v.canRetrieve));
    hold.textContent = v && v.canRetrieve ? "Retrieve" : "Hold";
    hold.setAttribute("aria-pressed", String(Boolean(v && v.canRetrieve)));
    $("phone-hangup").hidden = c.direction === "in" && c.state === "ringing";
    $("phone-hangup").textContent = c.state === "talking" ? "Hang up" : "Cancel";
  }
  $("dial").textContent = phone.mode === "browser" ? "Call" : "Dial";
  $("keypad").setAttribute("aria-label", c && c.state === "talking" ? "Keypad (sends tones to the call)" : "Dial pad");
}
desk.phoneRefresh = showStrip;

function tick() {
  const c = phone.call;
  if (!c) return;
  $("phone-call-time").textContent = clock(Date.now() - (c.answered || c.started));
}

function ringing() {
  return phone.sp ? [...phone.sp.calls].find((c) => c.direction === "in" && c.state === "ringing") : null;
}

// Waits up to `ms` for the browser phone to ring (the offer may arrive before the INVITE).
function waitRing(ms) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const poll = () => {
      const c = ringing();
      if (c || Date.now() - t0 > ms) resolve(c);
      else setTimeout(poll, 100);
    };
    poll();
  });
}

// The voice offer pop-up: with the browser phone it answers here.
function voiceOffer() {
  const kind = desk.offerKinds.voice;
  if (!kind) return;
  if (!phone.deskKind) phone.deskKind = { sub: kind.sub, note: kind.note, accept: kind.accept, acceptLabel: kind.acceptLabel, decline: kind.decline };
  if (phone.mode === "browser") {
    kind.sub = () => (ringing() ? "Your browser phone is ringing" : "Your browser phone is about to ring");
    kind.note = "Answer here, in the browser. Decline sends the call back to the queue for the next agent.";
    kind.acceptLabel = "Answer";
    // Declined through the switch (back to the queue): the CANCEL that follows is ours.
    kind.decline = async (offer) => {
      const c = ringing();
      if (c) c.declining = true;
      return phone.deskKind.decline(offer);
    };
    kind.accept = async () => {
      const c = await waitRing(5000);
      if (!c) throw new Error("The browser phone is not ringing: is it registered?");
      await c.answer();
      if (c.state !== "talking") throw new Error(c.endReason || "The call could not be answered.");
    };
  } else {
    Object.assign(kind, phone.deskKind);
  }
}

// ---- devices ----

async function listDevices() {
  let devices = [];
  try { devices = await navigator.mediaDevices.enumerateDevices(); } catch (_) { return; }
  // Labels are empty until the page may use the microphone: ask once, then list again.
  if (devices.some((d) => d.kind === "audioinput" && !d.label)) {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      s.getTracks().forEach((t) => t.stop());
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (_) { /* refused: list without labels */ }
  }
  fill($("phone-mic"), devices.filter((d) => d.kind === "audioinput"), phone.settings.mic, "Microphone");
  const outs = devices.filter((d) => d.kind === "audiooutput");
  const canSink = typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
  fill($("phone-speaker"), canSink ? outs : [], phone.settings.speaker, "Speaker");
  $("phone-speaker").disabled = !canSink;
  $("phone-speaker-note").textContent = canSink ? "" : "This browser plays calls on its default output.";
}

function fill(select, devices, chosen, what) {
  select.replaceChildren(new Option(`Default ${what.toLowerCase()}`, ""));
  devices.forEach((d, i) => {
    if (d.deviceId === "default" || d.deviceId === "") return;
    select.append(new Option(d.label || `${what} ${i + 1}`, d.deviceId));
  });
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}

function chooseDevices() {
  phone.settings.mic = $("phone-mic").value;
  phone.settings.speaker = $("phone-speaker").value;
  save();
  if (phone.sp) phone.sp.setDevices(phone.settings);
}

// ---- wiring ----

function keypad() {
  const pad = $("keypad");
  if (pad.childElementCount) return;
  for (const k of KEYS) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary key";
    b.textContent = k;
    b.setAttribute("aria-label", `Key ${k}`);
    b.addEventListener("click", () => press(k));
    pad.append(b);
  }
}

async function press(k) {
  const c = phone.call;
  $("dial-error").textContent = "";
  if (c && c.state === "talking") {
    $("dial-status").textContent = `Sent ${k}`;
    try { await c.digit(k); } catch (e) { $("dial-error").textContent = e.message; }
    return;
  }
  $("dial-number").value += k;
}

// Dial with the browser phone: true when it took the call.
desk.placeCall = (number) => {
  if (phone.mode !== "browser") return false;
  if (!phone.sp || phone.sp.state !== "registered") throw new Error("The browser phone is not registered yet.");
  if (phone.call) throw new Error("Hang up the current call first.");
  phone.sp.call(number);
  $("dial-status").textContent = `Calling ${number}…`;
  return true;
};

const act = (fn) => async () => {
  $("dial-error").textContent = "";
  try { if (phone.call) await fn(phone.call); } catch (e) { $("dial-error").textContent = e.message; }
};

document.addEventListener("DOMContentLoaded", () => {
  keypad();
  $("phone-answer").addEventListener("click", act((c) => c.answer()));
  $("phone-decline").addEventListener("click", act(async (c) => {
    // An ACD offer is declined through the switch (the call goes back to the queue).
    if (desk.offer && desk.offer.channel === "voice") { $("decline").click(); return; }
    c.decline(486);
  }));
  $("phone-mute").addEventListener("click", act((c) => c.mute(!c.muted)));
  $("phone-hold").addEventListener("click", act(async () => {
    const v = desk.voiceNow && desk.voiceNow();
    if (!v) throw new Error("The call is not up yet.");
    await (v.canRetrieve ? v.retrieve() : v.hold());
  }));
  $("phone-hangup").addEventListener("click", act((c) => c.hangup()));
  $("phone-mode").addEventListener("change", () => setMode($("phone-mode").value));
  $("phone-mic").addEventListener("change", chooseDevices);
  $("phone-speaker").addEventListener("change", chooseDevices);
  $("phone-settings").addEventListener("toggle", () => { if ($("phone-settings").open) listDevices(); });
});

desk.onBegin(async () => {
  phone.settings = load();
  await setMode(phone.settings.mode === "browser" ? "browser" : "desk");
});

desk.onEnd(() => { stop(); document.body.classList.remove("browser-phone"); });
desk.onTick(tick);
