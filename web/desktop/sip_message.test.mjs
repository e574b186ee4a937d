// Unit tests of sip_message.js: `node --test web/desktop/` (run by tests/tests/softphone_js.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parse, request, response, params, parseNameAddr, uriUser, splitList, dtmfRelay, parseChallenge,
  newBranch, SipError,
} from "./sip_message.js";

const INVITE = [
  "INVITE sip:df7jal23ls0d@x.invalid;transport=ws SIP/2.0",
  "Via: SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bK-abc;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2",
  "v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-3",
  "f: \"Caller, Jr\" <sip:5550101@127.0.0.1>;tag=f1",
  "t: <sip:1001@127.0.0.1>",
  "i: call-1@127.0.0.1",
  "CSeq: 7 INVITE",
  "Record-Route: <sip:127.0.0.1;lr>",
  "m: <sip:b2bua@127.0.0.1:5060>",
  "Subject: a long",
  "  folded value",
  "c: application/sdp",
  "l: 8",
  "",
  "v=0\r\no=x",
].join("\r\n");

test("parses a request with compact forms, lists and folding", () => {
  const m = parse(INVITE);
  assert.equal(m.method, "INVITE");
  assert.equal(m.uri, "sip:df7jal23ls0d@x.invalid;transport=ws");
  assert.equal(m.all("Via").length, 3);
  assert.equal(m.branch, "z9hG4bK-abc");
  assert.equal(m.from.display, "Caller, Jr");
  assert.equal(m.from.tag, "f1");
  assert.equal(m.to.tag, null);
  assert.equal(m.callId, "call-1@127.0.0.1");
  assert.deepEqual(m.cseq, { seq: 7, method: "INVITE" });
  assert.equal(m.get("subject"), "a long folded value");
  assert.equal(m.get("Content-Type"), "application/sdp");
  assert.equal(m.body, "v=0\r\no=x");
});

test("prints and parses back the same message", () => {
  const m = parse(INVITE);
  const again = parse(m.toString());
  assert.deepEqual(again.headers, m.headers);
  assert.equal(again.body, m.body);
  assert.match(m.toString(), /\r\nContent-Length: 8\r\n\r\nv=0/);
});

test("parses a response", () => {
  const m = parse("SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bKx\r\nFrom: <sip:1001@h>;tag=a\r\nTo: <sip:1001@h>;tag=b\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"h\", nonce=\"n1\", qop=\"auth\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n");
  assert.equal(m.status, 401);
  assert.equal(m.reason, "Unauthorized");
  assert.equal(m.to.tag, "b");
  assert.deepEqual(parseChallenge(m.get("WWW-Authenticate")), { realm: "h", nonce: "n1", qop: "auth", algorithm: "MD5" });
});

test("Content-Length counts bytes, and cuts the body to it", () => {
  const m = request({ method: "MESSAGE", uri: "sip:a@b", via: "SIP/2.0/WS x.invalid;branch=z9hG4bK1", from: "<sip:a@b>;tag=1", to: "<sip:c@d>", callId: "x", cseq: 1, body: "é", contentType: "text/plain" });
  assert.match(m.toString(), /Content-Length: 2\r\n/);
  const cut = parse(m.toString().replace("Content-Length: 2", "Content-Length: 0"));
  assert.equal(cut.body, "");
});

test("refuses broken messages with a SipError", () => {
  assert.throws(() => parse("hello"), SipError);
  assert.throws(() => parse("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x;branch=z9hG4bK1\r\n\r\n"), /missing From/);
  assert.throws(() => parse(INVITE.replace("CSeq: 7 INVITE", "CSeq: x INVITE")), /bad CSeq/);
  assert.throws(() => parse(INVITE.replace("l: 8", "l: 99")), /shorter/);
  assert.throws(() => parse(INVITE.replace("l: 8", "l: -1")), /Content-Length/);
  assert.throws(() => parse("INVITE sip:a@b SIP/2.0\r\nno colon here\r\n\r\n"), /bad header/);
});

test("a response copies Via, From, To, Call-ID, CSeq and adds the To tag", () => {
  const req = parse(INVITE);
  const r = response(req, 180, null, { toTag: "t9", contact: "<sip:me@x.invalid;transport=ws>" });
  const back = parse(r.toString());
  assert.equal(back.status, 180);
  assert.equal(back.reason, "Ringing");
  assert.equal(back.all("Via").length, 3);
  assert.equal(back.to.tag, "t9");
  assert.equal(back.get("Record-Route"), "<sip:127.0.0.1;lr>");
  assert.equal(back.get("CSeq"), "7 INVITE");
  const trying = response(req, 100, null, { toTag: "t9" });
  assert.equal(trying.to.tag, null);
});

test("header helpers", () => {
  assert.deepEqual(splitList('"a, b" <sip:x>, <sip:y;p=1,2>, z'), ['"a, b" <sip:x>', "<sip:y;p=1,2>", "z"]);
  assert.deepEqual(params("SIP/2.0/WS h;branch=z9hG4bKq;rport"), { branch: "z9hG4bKq", rport: "" });
  assert.deepEqual(params("<sip:a@b;transport=ws>;expires=60"), { expires: "60" });
  assert.equal(parseNameAddr("sip:1001@h;tag=9").tag, "9");
  assert.equal(parseNameAddr("sip:1001@h;tag=9").uri, "sip:1001@h");
  assert.deepEqual(uriUser("sip:1001@127.0.0.1:5060;transport=ws"), { user: "1001", host: "127.0.0.1:5060" });
  assert.match(newBranch(), /^z9hG4bK[a-z0-9]{16}$/);
});

test("dtmf-relay bodies", () => {
  assert.equal(dtmfRelay("5"), "Signal=5\r\nDuration=160\r\n");
  assert.equal(dtmfRelay("#", 250), "Signal=#\r\nDuration=250\r\n");
  assert.throws(() => dtmfRelay("x"), SipError);
});

test("md5 and the digest response (RFC 2617 §3.5's example)", async () => {
  const { md5, digestAuthorization } = await import("./sip_digest.js");
  const { createHash } = await import("node:crypto");
  for (const s of ["", "a", "abc", "x".repeat(55), "y".repeat(56), "z".repeat(64), "é€".repeat(40)]) {
    assert.equal(md5(s), createHash("md5").update(s).digest("hex"), JSON.stringify(s));
  }
  const v = digestAuthorization(
    { realm: "testrealm@host.com", qop: "auth,auth-int", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque: "5ccc069c403ebaf9f0171e9517f40e41" },
    { method: "GET", uri: "/dir/index.html", user: "Mufasa", password: "Circle Of Life", nc: 1, cnonce: "0a4f113b" },
  );
  assert.match(v, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(v, /qop=auth, nc=00000001, cnonce="0a4f113b"/);
});
