// Unit tests of sip_ua.js over a fake WebSocket that plays the switch:
// `node --test web/desktop/` (run by tests/tests/softphone_js.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, response, request, newBranch } from "./sip_message.js";
import { SipUA } from "./sip_ua.js";

// The switch end of one socket: what the UA sent, and a way to answer.
class FakeSocket {
  static OPEN = 1;
  static last = null;
  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.readyState = 1;
    this.sent = [];
    this.waiters = [];
    FakeSocket.last = this;
    setTimeout(() => this.onopen && this.onopen(), 0);
  }
  send(text) {
    const m = parse(text);
    this.sent.push(m);
    const w = this.waiters.findIndex((x) => x.pred(m));
    if (w >= 0) this.waiters.splice(w, 1)[0].resolve(m);
  }
  close() { this.readyState = 3; setTimeout(() => this.onclose && this.onclose(), 0); }
  // The next message the UA sends that matches `pred` (or one already sent).
  next(pred) {
    const seen = this.sent.find((m) => !m.taken && pred(m));
    if (seen) { seen.taken = true; return Promise.resolve(seen); }
    return new Promise((resolve) => this.waiters.push({ pred, resolve: (m) => { m.taken = true; resolve(m); } }));
  }
  deliver(msg) { this.onmessage({ data: msg.toString() }); }
}
globalThis.WebSocket = FakeSocket;

const isReq = (method) => (m) => m.method === method;
const isRes = (status) => (m) => m.status === status;

function ua(opts = {}) {
  const states = [];
  const u = new SipUA({ url: "ws://127.0.0.1/sip", user: "1001", domain: "127.0.0.1", onState: (s, d) => states.push([s, d]), ...opts });
  u.states = states;
  return u;
}

test("registers, refreshes at 80 % of the granted time, and unregisters", async () => {
  const u = ua();
  u.start();
  const sock = FakeSocket.last;
  assert.equal(sock.protocol, "sip");
  const reg = await sock.next(isReq("REGISTER"));
  assert.equal(reg.uri, "sip:127.0.0.1");
  assert.match(reg.get("Via"), /^SIP\/2\.0\/WS [a-z0-9]+\.invalid;branch=z9hG4bK/);
  assert.match(reg.get("Contact"), /transport=ws>;expires=300$/);
  const ok = response(reg, 200, null, { toTag: "s1" });
  ok.set("Contact", `${reg.get("Contact").replace(/;expires=\d+$/, "")};expires=7`);
  sock.deliver(ok);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(u.states.at(-1), ["registered", ""]);
  const t0 = Date.now();
  const again = await sock.next(isReq("REGISTER"));
  assert.ok(Date.now() - t0 >= 5000, "refreshed after max(5 s, 80 % of 7 s)");
  assert.equal(again.callId, reg.callId);
  assert.equal(again.cseq.seq, reg.cseq.seq + 1);
  sock.deliver(response(again, 200, null, { toTag: "s1" }));
  const stopping = u.stop();
  const bye = await sock.next(isReq("REGISTER"));
  assert.match(bye.get("Contact"), /;expires=0$/);
  sock.deliver(response(bye, 200, null, { toTag: "s1" }));
  await stopping;
  assert.equal(u.states.at(-1)[0], "stopped");
});

test("answers a digest challenge once with the password, and reports a refusal without one", async () => {
  const u = ua({ password: "pass1001" });
  u.start();
  const sock = FakeSocket.last;
  const reg = await sock.next(isReq("REGISTER"));
  const challenge = response(reg, 401, null, { toTag: "s1", headers: [["WWW-Authenticate", 'Digest realm="127.0.0.1", nonce="abc", qop="auth", algorithm=MD5']] });
  sock.deliver(challenge);
  const retry = await sock.next(isReq("REGISTER"));
  assert.notEqual(retry.branch, reg.branch);
  assert.equal(retry.cseq.seq, reg.cseq.seq + 1);
  assert.match(retry.get("Authorization"), /^Digest username="1001", realm="127.0.0.1", nonce="abc", uri="sip:127.0.0.1", response="[0-9a-f]{32}"/);
  sock.deliver(response(retry, 403, null, { toTag: "s1" }));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(u.states.at(-1), ["failed", "not authorised: log in again"]);
  await u.stop();
});

function inviteFromSwitch(sock, body = "v=0\r\n") {
  return request({
    method: "INVITE", uri: "sip:x@y.invalid;transport=ws", via: `SIP/2.0/WS 127.0.0.1:5060;branch=${newBranch()}`,
    from: '"Caller" <sip:5550101@127.0.0.1>;tag=c1', to: "<sip:1001@127.0.0.1>", callId: "call-1", cseq: 1,
    contact: "<sip:b2bua@127.0.0.1:5060;transport=ws>", headers: [["Record-Route", "<sip:127.0.0.1;lr>"]], body,
  });
}

test("an incoming INVITE: 100 at once, the 2xx resent until the ACK, then BYE in the dialog", async () => {
  let got = null;
  const u = ua({ onInvite: (req, tx) => { got = { req, tx }; } });
  u.start();
  const sock = FakeSocket.last;
  await sock.next(isReq("REGISTER"));
  const inv = inviteFromSwitch(sock);
  sock.deliver(inv);
  await sock.next(isRes(100));
  assert.ok(got);
  got.tx.reply(180);
  const ringing = await sock.next(isRes(180));
  const tag = ringing.to.tag;
  assert.ok(tag);
  const dialog = u.dialogFor(got.tx);
  let bye = null;
  u.track(dialog, (req, tx) => { bye = req; tx.reply(200); });
  got.tx.reply(200, { contact: u.contact, body: "v=0 answer\r\n" });
  const ok = await sock.next(isRes(200));
  assert.equal(ok.to.tag, tag);
  assert.equal(ok.body, "v=0 answer\r\n");
  const resent = await sock.next(isRes(200)); // T1 later, no ACK yet
  assert.equal(resent.toString(), ok.toString());
  sock.deliver(request({ method: "ACK", uri: "sip:x@y.invalid", via: `SIP/2.0/WS 127.0.0.1:5060;branch=${newBranch()}`,
    from: inv.get("From"), to: ok.get("To"), callId: "call-1", cseq: 1 }));
  assert.equal(await got.tx.acked, true);
  const count = sock.sent.filter(isRes(200)).length;
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(sock.sent.filter(isRes(200)).length, count, "no 2xx after the ACK");
  // Our BYE goes to the Contact, through the Record-Route.
  const ending = u.requestIn(dialog, "BYE");
  const ours = await sock.next(isReq("BYE"));
  assert.equal(ours.uri, "sip:b2bua@127.0.0.1:5060;transport=ws");
  assert.equal(ours.get("Route"), "<sip:127.0.0.1;lr>");
  assert.equal(ours.to.tag, "c1");
  assert.equal(ours.from.tag, tag);
  sock.deliver(response(ours, 200));
  assert.equal((await ending).status, 200);
  assert.equal(bye, null);
  // A request for a dialog we do not know: 481.
  sock.deliver(request({ method: "INFO", uri: "sip:x@y.invalid", via: `SIP/2.0/WS 127.0.0.1;branch=${newBranch()}`,
    from: "<sip:a@b>;tag=zz", to: "<sip:1001@127.0.0.1>;tag=nope", callId: "other", cseq: 5 }));
  await sock.next(isRes(481));
  await u.stop();
});

test("a CANCEL of a ringing INVITE: 200 to it, 487 to the INVITE", async () => {
  let got = null;
  const u = ua({ onInvite: (req, tx) => { got = { req, tx }; tx.reply(180); } });
  u.start();
  const sock = FakeSocket.last;
  await sock.next(isReq("REGISTER"));
  const inv = inviteFromSwitch(sock);
  sock.deliver(inv);
  await sock.next(isRes(180));
  let cancelled = false;
  got.tx.onCancel = () => { cancelled = true; };
  const cancel = request({ method: "CANCEL", uri: inv.uri, via: inv.get("Via"), from: inv.get("From"), to: inv.get("To"), callId: "call-1", cseq: 1 });
  sock.deliver(cancel);
  const ok = await sock.next((m) => m.status === 200 && m.cseq.method === "CANCEL");
  assert.ok(ok);
  const terminated = await sock.next(isRes(487));
  assert.equal(terminated.cseq.method, "INVITE");
  assert.ok(cancelled);
  assert.equal(got.tx.reply(200), null, "no answer after the 487");
  await u.stop();
});

test("an outgoing INVITE: 180, 200 gets an ACK with a new branch; a 486 is ACKed in its transaction", async () => {
  const u = ua();
  u.start();
  const sock = FakeSocket.last;
  await sock.next(isReq("REGISTER"));
  let rang = false;
  const out = u.invite("1003", "v=0 offer\r\n", { onProvisional: (r) => { if (r.status === 180) rang = true; } });
  const inv = await sock.next(isReq("INVITE"));
  assert.equal(inv.uri, "sip:1003@127.0.0.1");
  assert.equal(inv.body, "v=0 offer\r\n");
  sock.deliver(response(inv, 180, null, { toTag: "b1" }));
  const ok = response(inv, 200, null, { toTag: "b1", contact: "<sip:1003@127.0.0.1:5060>", body: "v=0 answer\r\n" });
  sock.deliver(ok);
  const { res, dialog } = await out.done;
  assert.ok(rang);
  assert.equal(res.body, "v=0 answer\r\n");
  const ack = await sock.next(isReq("ACK"));
  assert.notEqual(ack.branch, inv.branch);
  assert.equal(ack.uri, "sip:1003@127.0.0.1:5060");
  assert.equal(ack.cseq.seq, 1);
  assert.equal(dialog.remoteTag, "b1");
  // A busy callee.
  const busy = u.invite("1004", "v=0\r\n");
  const inv2 = await sock.next((m) => m.method === "INVITE" && m.uri.startsWith("sip:1004"));
  sock.deliver(response(inv2, 486, null, { toTag: "b2" }));
  const r2 = await busy.done;
  assert.equal(r2.res.status, 486);
  assert.equal(r2.dialog, null);
  const ack2 = await sock.next((m) => m.method === "ACK" && m.callId === inv2.callId);
  assert.equal(ack2.branch, inv2.branch);
  assert.equal(ack2.to.tag, "b2");
  await u.stop();
});
