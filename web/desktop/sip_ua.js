// The softphone's SIP user agent over WebSocket (RFC 7118) to our switch's `/sip`:
// registration with refresh, client and server transactions over a reliable transport,
// dialogs, CANCEL, ACK, BYE and in-dialog requests, digest answers when challenged.
//
// - Transport: one WebSocket, subprotocol `sip`, one message per frame. It is reliable,
//   so requests are not retransmitted (RFC 3261 §17.1.1.2: timer A is for unreliable
//   transports); a client transaction just times out after 64·T1 = 32 s (timer B/F).
//   A 2xx to an INVITE is the UA core's and is retransmitted until the ACK (§13.3.1.4).
// - Credential: the page's session cookie goes with the upgrade, so the switch lets the
//   agent's own REGISTER and INVITE through without digest. If it challenges anyway and
//   a password was given, the request is sent again with the digest answer; otherwise the
//   registration fails with "not authorised".
// - The UA knows nothing of media: `onInvite(call)` hands an incoming INVITE to the
//   softphone, which answers it through the returned helpers.
import {
  parse, request, response, newBranch, newTag, newCallId, randomToken, parseNameAddr,
  parseChallenge, SipError,
} from "./sip_message.js";
import { digestAuthorization } from "./sip_digest.js";

const T1 = 500;
const T2 = 4000;
const TIMEOUT = 64 * T1;
const ALLOW = "INVITE, ACK, CANCEL, BYE, INFO, OPTIONS, UPDATE";

// One dialog (RFC 3261 §12): what in-dialog requests need.
export class Dialog {
  constructor({ callId, localTag, remoteTag, localUri, remoteUri, remoteTarget, routeSet, localSeq, remoteSeq }) {
    Object.assign(this, { callId, localTag, remoteTag, localUri, remoteUri, remoteTarget, routeSet, localSeq, remoteSeq });
  }

  get id() { return `${this.callId};${this.localTag};${this.remoteTag}`; }
}

export class SipUA {
  // { url, user, domain, displayName, password, onState(state, detail), onInvite(call), log }
  constructor(opts) {
    this.opts = opts;
    this.url = opts.url;
    this.user = opts.user;
    this.domain = opts.domain;
    this.scheme = this.url.startsWith("wss:") ? "WSS" : "WS";
    this.host = `${randomToken(12)}.invalid`;
    this.contactUser = randomToken(8);
    this.contact = `<sip:${this.contactUser}@${this.host};transport=${this.scheme.toLowerCase()}>`;
    this.aor = `sip:${this.user}@${this.domain}`;
    this.ws = null;
    this.state = "stopped";
    this.stopped = true;
    this.clients = new Map(); // branch → client transaction
    this.servers = new Map(); // branch + method → server transaction
    this.dialogs = new Map(); // dialog id → handler { dialog, onRequest(req, tx) }
    this.reg = { callId: newCallId(), tag: newTag(), cseq: 0, timer: null, expires: opts.expires || 300 };
    this.log = opts.log || (() => {});
  }

  setState(state, detail = "") {
    this.state = state;
    if (this.opts.onState) this.opts.onState(state, detail);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  // Unregisters (best effort) and closes the socket.
  async stop() {
    this.stopped = true;
    clearTimeout(this.reg.timer);
    clearTimeout(this.reconnectTimer);
    if (this.ws && this.ws.readyState === WebSocket.OPEN
        && (this.state === "registered" || this.state === "registering")) {
      try { await Promise.race([this.register(0), new Promise((r) => setTimeout(r, 1500))]); } catch (_) { /* closing anyway */ }
    }
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close();
    for (const tx of this.clients.values()) tx.fail(new Error("stopped"));
    for (const tx of this.servers.values()) { clearTimeout(tx.cleanup); clearTimeout(tx.ackTimer); }
    this.clients.clear();
    this.servers.clear();
    this.setState("stopped");
  }

  connect() {
    this.setState("connecting");
    let ws;
    try { ws = new WebSocket(this.url, "sip"); } catch (e) { this.setState("failed", e.message); return; }
    this.ws = ws;
    ws.onopen = () => {
      if (ws.protocol !== "sip") { this.setState("failed", "the server does not speak SIP over WebSocket"); ws.close(); return; }
      this.register(this.reg.expires).catch(() => {});
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") this.receive(e.data);
      else e.data.text?.().then((t) => this.receive(t));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearTimeout(this.reg.timer);
      for (const tx of this.clients.values()) tx.fail(new Error("connection lost"));
      this.clients.clear();
      if (this.stopped) return;
      this.setState("disconnected", "connection lost; reconnecting");
      this.reconnectTimer = setTimeout(() => { if (!this.stopped) this.connect(); }, 3000);
    };
  }

  via(branch) { return `SIP/2.0/${this.scheme} ${this.host};branch=${branch};rport`; }

  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error("not connected");
    const text = msg.toString();
    this.log("send", text);
    this.ws.send(text);
  }

  // ---- registration ----

  async register(expires) {
    const cseq = ++this.reg.cseq;
    const req = request({
      method: "REGISTER", uri: `sip:${this.domain}`, via: this.via(newBranch()),
      from: `<${this.aor}>;tag=${this.reg.tag}`, to: `<${this.aor}>`, callId: this.reg.callId, cseq,
      contact: `${this.contact};expires=${expires}`, headers: [["Expires", expires], ["Allow", ALLOW]],
    });
    if (expires > 0) this.setState("registering");
    let res;
    try {
      res = await this.transact(req, { auth: true, onCseq: (n) => { this.reg.cseq = n; } });
    } catch (e) {
      if (expires > 0) this.setState("failed", e.message);
      throw e;
    }
    if (expires === 0 || this.stopped) return res;
    if (res.status >= 200 && res.status < 300) {
      const mine = res.all("Contact").map(parseNameAddr).find((c) => c.uri.includes(this.contactUser));
      const granted = Number((mine && mine.params.expires) || res.get("Expires") || expires) || expires;
      clearTimeout(this.reg.timer);
      this.reg.timer = setTimeout(() => this.register(this.reg.expires).catch(() => {}), Math.max(5, granted * 0.8) * 1000);
      this.setState("registered");
    } else {
      const why = res.status === 401 || res.status === 407 || res.status === 403
        ? "not authorised: log in again" : `${res.status} ${res.reason}`;
      this.setState("failed", why);
    }
    return res;
  }

  // ---- client transactions ----

  // Sends `req` and resolves with its final response; `onProvisional(res)` sees 1xx.
  // With `auth`, a 401/407 is answered once with the digest of the configured password.
  transact(req, { onProvisional = null, auth = false, onCseq = null, onTransaction = null } = {}) {
    return new Promise((resolve, reject) => {
      const start = (msg, retried) => {
        const branch = msg.branch;
        const tx = {
          req: msg, branch, method: msg.method, provisional: false, final: null,
          timer: setTimeout(() => { this.clients.delete(branch); reject(new Error(`${msg.method} timed out`)); }, TIMEOUT),
          fail: (e) => { clearTimeout(tx.timer); reject(e); },
          onResponse: (res) => {
            if (res.status < 200) {
              tx.provisional = true;
              if (onProvisional) onProvisional(res, tx);
              return;
            }
            clearTimeout(tx.timer);
            this.clients.delete(branch);
            if (msg.method === "INVITE" && res.status >= 300) this.ackNon2xx(msg, res);
            const challenge = parseChallenge(res.get(res.status === 407 ? "Proxy-Authenticate" : "WWW-Authenticate"));
            if (auth && !retried && (res.status === 401 || res.status === 407) && challenge && this.opts.password) {
              const next = this.withAuth(msg, res.status, challenge);
              if (onCseq) onCseq(next.cseq.seq);
              start(next, true);
              return;
            }
            resolve(res);
          },
        };
        this.clients.set(branch, tx);
        if (onTransaction) onTransaction(tx);
        try { this.send(msg); } catch (e) { clearTimeout(tx.timer); this.clients.delete(branch); reject(e); }
      };
      start(req, false);
    });
  }

  withAuth(msg, status, challenge) {
    const next = parse(msg.toString());
    const seq = msg.cseq.seq + 1;
    next.set("CSeq", `${seq} ${msg.method}`);
    next.remove("Via").headers.unshift(["Via", this.via(newBranch())]);
    next.set(status === 407 ? "Proxy-Authorization" : "Authorization", digestAuthorization(challenge, {
      method: msg.method, uri: msg.uri, user: this.user, password: this.opts.password,
    }));
    return next;
  }

  // RFC 3261 §17.1.1.3: the ACK of a non-2xx final is part of the INVITE transaction.
  ackNon2xx(invite, res) {
    const ack = request({
      method: "ACK", uri: invite.uri, via: invite.all("Via")[0], from: invite.get("From"),
      to: res.get("To"), callId: invite.callId, cseq: invite.cseq.seq,
      headers: invite.all("Route").map((r) => ["Route", r]),
    });
    try { this.send(ack); } catch (_) { /* the socket is gone; nothing to acknowledge */ }
  }

  // CANCEL of a pending INVITE client transaction (only after a provisional, §9.1).
  cancel(invite) {
    const req = request({
      method: "CANCEL", uri: invite.uri, via: invite.all("Via")[0], from: invite.get("From"),
      to: invite.get("To"), callId: invite.callId, cseq: invite.cseq.seq,
      headers: invite.all("Route").map((r) => ["Route", r]),
    });
    req.headers = req.headers.filter(([k]) => k !== "Via");
    req.headers.unshift(["Via", invite.all("Via")[0]]);
    return this.transact(req);
  }

  // ---- outgoing INVITE ----

  // Places an INVITE with `sdp` to `target` (a number or SIP URI). Returns
  // { invite, done: Promise<{ res, dialog }> }; provisional answers go to `onProvisional`.
  invite(target, sdp, { onProvisional } = {}) {
    const uri = /^sips?:/.test(target) ? target : `sip:${encodeURIComponent(target).replace(/%2B/g, "+")}@${this.domain}`;
    const tag = newTag();
    const callId = newCallId();
    const invite = request({
      method: "INVITE", uri, via: this.via(newBranch()),
      from: `${this.opts.displayName ? `"${this.opts.displayName.replace(/"/g, "")}" ` : ""}<${this.aor}>;tag=${tag}`,
      to: `<${uri}>`, callId, cseq: 1, contact: this.contact,
      headers: [["Allow", ALLOW], ["Supported", "outbound"]], body: sdp,
    });
    const state = { invite, tx: null };
    state.done = this.transact(invite, {
      auth: true, onProvisional,
      onTransaction: (tx) => { state.tx = tx; state.invite = tx.req; },
    }).then((res) => {
      if (res.status >= 300) return { res, dialog: null };
      const dialog = new Dialog({
        callId, localTag: tag, remoteTag: res.to.tag, localUri: invite.get("From").replace(/;tag=.*$/, ""),
        remoteUri: res.get("To").replace(/;tag=[^;]*/, ""),
        remoteTarget: parseNameAddr(res.all("Contact")[0] || `<${uri}>`).uri,
        routeSet: res.all("Record-Route").reverse(), localSeq: state.invite.cseq.seq, remoteSeq: null,
      });
      this.ack2xx(dialog, state.invite.cseq.seq);
      return { res, dialog };
    });
    return state;
  }

  ack2xx(dialog, seq) {
    const ack = this.inDialog(dialog, "ACK", { cseq: seq });
    try { this.send(ack); } catch (_) { /* gone */ }
  }

  // A request inside `dialog` (§12.2.1.1).
  inDialog(dialog, method, { cseq = null, headers = [], body = "", contentType = null } = {}) {
    const seq = cseq !== null ? cseq : ++dialog.localSeq;
    return request({
      method, uri: dialog.remoteTarget, via: this.via(newBranch()),
      from: `${dialog.localUri};tag=${dialog.localTag}`, to: `${dialog.remoteUri};tag=${dialog.remoteTag}`,
      callId: dialog.callId, cseq: seq, contact: method === "INVITE" ? this.contact : null,
      headers: [...dialog.routeSet.map((r) => ["Route", r]), ...headers], body, contentType,
    });
  }

  // Sends an in-dialog request (BYE, INFO, ...) and resolves with its final response.
  requestIn(dialog, method, opts = {}) {
    return this.transact(this.inDialog(dialog, method, opts), { auth: method !== "ACK" });
  }

  // Requests inside `dialog` go to `handler(req, respond)` until `forget`.
  track(dialog, handler) {
    this.dialogs.set(dialog.id, { dialog, handler });
    return () => this.dialogs.delete(dialog.id);
  }

  // ---- incoming ----

  receive(text) {
    let msg;
    try { msg = parse(text); } catch (e) {
      this.log("bad", `${e instanceof SipError ? e.message : e}: ${text.slice(0, 200)}`);
      return; // a response is impossible without Via & co.; requests from our switch are well formed
    }
    this.log("recv", text);
    if (!msg.isRequest) {
      const tx = this.clients.get(msg.branch);
      if (tx && tx.method === msg.cseq.method) tx.onResponse(msg);
      else if (msg.status >= 200 && msg.status < 300 && msg.cseq.method === "INVITE") this.reAck(msg);
      return;
    }
    this.onRequest(msg);
  }

  // A retransmitted 2xx to our INVITE: ACK it again (§13.2.2.4).
  reAck(res) {
    for (const { dialog } of this.dialogs.values()) {
      if (dialog.callId === res.callId && dialog.remoteTag === res.to.tag) this.ack2xx(dialog, res.cseq.seq);
    }
  }

  respond(req, status, opts = {}) {
    const res = response(req, status, opts.reason, opts);
    try { this.send(res); } catch (_) { /* the socket is gone */ }
    return res;
  }

  onRequest(req) {
    const key = `${req.branch}|${req.method === "ACK" ? "INVITE" : req.method}`;
    if (req.method === "CANCEL") { this.onCancel(req); return; }
    if (req.method === "ACK") { this.onAck(req); return; }
    const old = this.servers.get(key);
    if (old) { if (old.last) this.send(old.last); return; } // a retransmission
    const toTag = req.to.tag;
    if (toTag) {
      const entry = [...this.dialogs.values()].find(({ dialog }) => dialog.callId === req.callId
        && dialog.localTag === toTag && dialog.remoteTag === req.from.tag);
      if (!entry) { this.respond(req, 481); return; }
      const { dialog } = entry;
      if (dialog.remoteSeq !== null && req.cseq.seq <= dialog.remoteSeq && req.method !== "ACK") {
        this.respond(req, 500, { reason: "CSeq out of order" });
        return;
      }
      dialog.remoteSeq = req.cseq.seq;
      const contact = req.all("Contact")[0];
      if (req.method === "INVITE" && contact) dialog.remoteTarget = parseNameAddr(contact).uri;
      const tx = this.serverTx(key, req, dialog.localTag);
      entry.handler(req, tx);
      return;
    }
    switch (req.method) {
      case "INVITE": {
        const tag = newTag();
        const tx = this.serverTx(key, req, tag);
        tx.reply(100);
        if (!this.opts.onInvite) { tx.reply(480); return; }
        this.opts.onInvite(req, tx);
        return;
      }
      case "OPTIONS":
        this.respond(req, 200, { toTag: newTag(), headers: [["Allow", ALLOW], ["Accept", "application/sdp"]] });
        return;
      case "BYE":
      case "INFO":
        this.respond(req, 481);
        return;
      default:
        this.respond(req, 405, { toTag: newTag(), headers: [["Allow", ALLOW]] });
    }
  }

  // A server transaction for `req`: reply(status, opts) sends (and remembers) a response;
  // a 2xx to an INVITE also creates the dialog and is resent until the ACK.
  serverTx(key, req, tag) {
    const tx = {
      req, tag, final: null, last: null, dialog: null, cancelled: false, acked: null,
      onCancel: null, onAck: null,
      reply: (status, opts = {}) => {
        if (tx.final) return null;
        const res = this.respond(req, status, { toTag: tag, ...opts });
        tx.last = res;
        if (status >= 200) {
          tx.final = res;
          tx.cleanup = setTimeout(() => this.servers.delete(key), TIMEOUT);
          if (req.method === "INVITE" && status < 300) this.resendUntilAck(tx, res);
        }
        return res;
      },
    };
    this.servers.set(key, tx);
    return tx;
  }

  // RFC 3261 §13.3.1.4: the 2xx is retransmitted at T1, 2·T1, ... up to T2 until the ACK.
  resendUntilAck(tx, res) {
    let gap = T1;
    const started = Date.now();
    tx.acked = new Promise((resolve) => { tx.ackResolve = resolve; });
    const again = () => {
      if (tx.gotAck) return;
      if (Date.now() - started >= TIMEOUT) { tx.ackResolve(false); return; }
      try { this.send(res); } catch (_) { tx.ackResolve(false); return; }
      gap = Math.min(gap * 2, T2);
      tx.ackTimer = setTimeout(again, gap);
    };
    tx.ackTimer = setTimeout(again, gap);
  }

  onAck(req) {
    for (const tx of this.servers.values()) {
      if (tx.req.method === "INVITE" && tx.req.callId === req.callId && tx.req.cseq.seq === req.cseq.seq
          && tx.final && req.to.tag === tx.tag) {
        if (tx.final.status >= 300) return; // absorbed by the transaction
        if (tx.gotAck) return;
        tx.gotAck = true;
        clearTimeout(tx.ackTimer);
        if (tx.ackResolve) tx.ackResolve(true);
        if (tx.onAck) tx.onAck(req);
        return;
      }
    }
  }

  onCancel(req) {
    const tx = this.servers.get(`${req.branch}|INVITE`);
    if (!tx) { this.respond(req, 481, { toTag: newTag() }); return; }
    this.respond(req, 200, { toTag: tx.tag });
    if (tx.final) return;
    tx.cancelled = true;
    tx.reply(487);
    if (tx.onCancel) tx.onCancel(req);
  }

  // The dialog a 2xx to an incoming INVITE creates (UAS side, §12.1.1).
  dialogFor(tx) {
    const req = tx.req;
    return new Dialog({
      callId: req.callId, localTag: tx.tag, remoteTag: req.from.tag,
      localUri: req.get("To").replace(/;tag=[^;]*/, ""), remoteUri: req.get("From").replace(/;tag=[^;]*/, ""),
      remoteTarget: parseNameAddr(req.all("Contact")[0] || req.get("From")).uri,
      routeSet: req.all("Record-Route"), localSeq: Math.floor(Math.random() * 10000) + 1, remoteSeq: req.cseq.seq,
    });
  }
}
