// The browser softphone: calls over the SIP UA (sip_ua.js) with an RTCPeerConnection each.
//
// - Incoming INVITE with an offer (the ACD or a colleague ringing the agent): 180 at once,
//   the call rings; `answer()` takes the microphone, applies the offer and replies 200 with
//   a non-trickle answer once ICE gathering is complete (SIP carries no trickle). Declined
//   with 486 (busy) or 603; a CANCEL stops the ring.
// - Outgoing: `call(number)` offers PCMU, PCMA, then Opus (setCodecPreferences), waits for
//   gathering, sends the INVITE with that offer; 180 rings back; the 200's answer is applied.
//   `hangup()` before the answer is a CANCEL.
// - In the call: BYE both ways; mute is `track.enabled = false` (no signalling); the keypad
//   sends INFO application/dtmf-relay; a re-INVITE from the switch is answered on the same
//   peer connection (an ICE restart and new DTLS if its fingerprint changed).
// - Devices: the microphone by deviceId, the speaker by setSinkId where the browser has it.
// The UI is phone.js; this file has no knowledge of the page beyond the <audio> it plays to.
import { SipUA } from "./sip_ua.js";
import { parseNameAddr, uriUser, dtmfRelay } from "./sip_message.js";

const CODECS = ["audio/pcmu", "audio/pcma", "audio/opus", "audio/telephone-event"];
const GATHER_CAP_MS = 2000;

// Resolves when ICE gathering is complete, or after the cap with what there is.
function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener("icegatheringstatechange", check); clearTimeout(timer); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_CAP_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function partyOf(header) {
  const na = parseNameAddr(header || "");
  const user = uriUser(na.uri).user;
  return { number: user || na.uri, name: na.display || "" };
}

export class Call {
  constructor(phone, direction, party) {
    this.phone = phone;
    this.direction = direction; // "in" | "out"
    this.party = party; // { number, name }
    this.state = direction === "in" ? "ringing" : "dialling"; // → early → talking → ended
    this.muted = false;
    this.pc = null;
    this.stream = null;
    this.dialog = null;
    this.forget = null;
    this.endReason = "";
    this.started = Date.now();
    this.answered = null;
  }

  set(state, reason = "") {
    if (this.state === "ended") return;
    this.state = state;
    if (state === "talking" && !this.answered) this.answered = Date.now();
    if (state === "ended") {
      this.endReason = reason;
      this.release();
    }
    this.phone.changed(this);
  }

  release() {
    if (this.forget) this.forget();
    if (this.pc) { try { this.pc.close(); } catch (_) { /* closed */ } }
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.pc = null;
    this.phone.speakerOff(this);
  }

  async media() {
    const mic = this.phone.devices.mic;
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: mic ? { deviceId: { exact: mic } } : true,
    }).catch(() => navigator.mediaDevices.getUserMedia({ audio: true }));
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    this.pc = pc;
    pc.ontrack = (e) => this.phone.speakerOn(this, e.track, e.streams[0]);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" && this.state === "talking") this.phone.notice(this, "The audio connection failed.");
    };
    return this.stream.getAudioTracks()[0];
  }

  // Requests inside the dialog: BYE, INFO, re-INVITE.
  trackDialog() {
    this.forget = this.phone.ua.track(this.dialog, (req, tx) => this.inDialog(req, tx));
  }

  async inDialog(req, tx) {
    switch (req.method) {
      case "BYE":
        tx.reply(200);
        this.set("ended", "The other party hung up.");
        return;
      case "INFO":
      case "UPDATE":
      case "OPTIONS":
        tx.reply(200);
        return;
      case "INVITE":
        if (!req.body || !this.pc) { tx.reply(488); return; }
        try {
          await this.pc.setRemoteDescription({ type: "offer", sdp: req.body });
          await this.pc.setLocalDescription(await this.pc.createAnswer());
          await gatheringComplete(this.pc);
          tx.reply(200, { contact: this.phone.ua.contact, body: this.pc.localDescription.sdp });
        } catch (e) {
          tx.reply(488, { reason: "Not Acceptable Here" });
        }
        return;
      default:
        tx.reply(405);
    }
  }

  mute(on) {
    this.muted = on;
    if (this.stream) for (const t of this.stream.getAudioTracks()) t.enabled = !on;
    this.phone.changed(this);
  }

  async digit(d) {
    if (this.state !== "talking" || !this.dialog) throw new Error("Not in a call.");
    const res = await this.phone.ua.requestIn(this.dialog, "INFO", {
      body: dtmfRelay(d), contentType: "application/dtmf-relay",
    });
    if (res.status >= 300) throw new Error(`The keypad digit was refused (${res.status}).`);
  }

  async hangup() {
    if (this.state === "ended") return;
    if (this.state === "talking" && this.dialog) {
      this.set("ended", "You hung up.");
      await this.phone.ua.requestIn(this.dialog, "BYE").catch(() => {});
    } else if (this.direction === "in") {
      this.decline(603);
    } else {
      this.cancelled = true;
      if (this.out && this.out.tx && this.out.tx.provisional) await this.phone.ua.cancel(this.out.invite).catch(() => {});
      this.set("ended", "Call cancelled.");
    }
  }

  // ---- incoming ----

  async answer() {
    if (this.state !== "ringing") return;
    this.set("answering");
    try {
      const track = await this.media();
      if (this.state === "ended") { this.release(); return; }
      this.pc.addTrack(track, this.stream); // before the offer, so the answer is sendrecv
      await this.pc.setRemoteDescription({ type: "offer", sdp: this.tx.req.body });
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      await gatheringComplete(this.pc);
      if (this.state === "ended" || this.tx.cancelled) return;
      this.dialog = this.phone.ua.dialogFor(this.tx);
      this.trackDialog();
      this.tx.reply(200, { contact: this.phone.ua.contact, body: this.pc.localDescription.sdp });
      this.set("talking");
      const acked = await this.tx.acked;
      if (!acked && this.state === "talking") {
        await this.phone.ua.requestIn(this.dialog, "BYE").catch(() => {});
        this.set("ended", "The switch did not confirm the answer.");
      }
    } catch (e) {
      this.tx.reply(488, { reason: "Not Acceptable Here" });
      this.set("ended", `Could not answer: ${e.message}`);
    }
  }

  decline(status = 486) {
    if (this.state !== "ringing" && this.state !== "answering") return;
    this.tx.reply(status);
    this.set("ended", "Declined.");
  }

  // ---- outgoing ----

  async dial(target) {
    try {
      const track = await this.media();
      const t = this.pc.addTransceiver(track, { direction: "sendrecv", streams: [this.stream] });
      const caps = (RTCRtpSender.getCapabilities && RTCRtpSender.getCapabilities("audio")) || { codecs: [] };
      const order = CODECS.flatMap((m) => caps.codecs.filter((c) => c.mimeType.toLowerCase() === m));
      if (order.length && t.setCodecPreferences) t.setCodecPreferences(order);
      await this.pc.setLocalDescription(await this.pc.createOffer());
      await gatheringComplete(this.pc);
      if (this.state === "ended") return;
      this.out = this.phone.ua.invite(target, this.pc.localDescription.sdp, {
        onProvisional: (res) => {
          if (res.status >= 180 && this.state === "dialling") this.set("early");
          if (this.cancelled) this.phone.ua.cancel(this.out.invite).catch(() => {});
        },
      });
      const { res, dialog } = await this.out.done;
      if (!dialog) {
        this.set("ended", res.status === 487 ? "Call cancelled." : `The call failed: ${res.status} ${res.reason}.`);
        return;
      }
      this.dialog = dialog;
      this.trackDialog();
      if (this.state === "ended") { // cancelled too late: the 200 crossed the CANCEL
        await this.phone.ua.requestIn(dialog, "BYE").catch(() => {});
        return;
      }
      try {
        await this.pc.setRemoteDescription({ type: "answer", sdp: res.body });
      } catch (e) {
        await this.phone.ua.requestIn(dialog, "BYE").catch(() => {});
        this.set("ended", `The answer's media was not acceptable: ${e.message}`);
        return;
      }
      this.set("talking");
    } catch (e) {
      this.set("ended", `The call failed: ${e.message}`);
    }
  }
}

export class Softphone {
  // { url, user, domain, displayName, speaker (<audio>), onChange(phone, call), onState(state, detail) }
  constructor(opts) {
    this.opts = opts;
    this.calls = new Set();
    this.devices = { mic: "", speaker: "" };
    this.state = "stopped";
    this.detail = "";
    this.ua = new SipUA({
      url: opts.url, user: opts.user, domain: opts.domain, displayName: opts.displayName,
      password: opts.password,
      onState: (state, detail) => { this.state = state; this.detail = detail; if (opts.onState) opts.onState(state, detail); },
      onInvite: (req, tx) => this.incoming(req, tx),
      log: opts.log,
    });
  }

  start() { this.ua.start(); }

  async stop() {
    for (const c of [...this.calls]) await c.hangup().catch(() => {});
    await this.ua.stop();
  }

  changed(call) {
    if (call.state === "ended") this.calls.delete(call);
    if (this.opts.onChange) this.opts.onChange(this, call);
  }

  notice(call, text) { if (this.opts.onNotice) this.opts.onNotice(call, text); }

  busy() { return [...this.calls].some((c) => c.state !== "ringing"); }

  incoming(req, tx) {
    if (!req.body || !/^application\/sdp/i.test(req.get("Content-Type") || "")) {
      tx.reply(488, { reason: "Offer Required" }); // we answer offers; we make none in a 200
      return;
    }
    const call = new Call(this, "in", partyOf(req.get("From")));
    call.tx = tx;
    tx.onCancel = () => call.set("ended", call.declining ? "Declined." : "The call stopped ringing.");
    this.calls.add(call);
    tx.reply(180);
    this.changed(call);
  }

  call(target) {
    const call = new Call(this, "out", { number: target, name: "" });
    this.calls.add(call);
    this.changed(call);
    call.dial(target);
    return call;
  }

  // Where received audio plays: the <audio> speaker, on the chosen output.
  speakerOn(call, track, stream) {
    const el = this.opts.speaker;
    if (!el) return;
    el.srcObject = stream || new MediaStream([track]);
    if (this.devices.speaker && el.setSinkId) el.setSinkId(this.devices.speaker).catch(() => {});
    el.play().catch(() => {});
  }

  speakerOff() {
    const el = this.opts.speaker;
    if (el && ![...this.calls].some((c) => c.pc)) el.srcObject = null;
  }

  setDevices({ mic, speaker }) {
    this.devices = { mic: mic || "", speaker: speaker || "" };
    const el = this.opts.speaker;
    if (el && el.setSinkId) el.setSinkId(this.devices.speaker || "").catch(() => {});
  }
}
