// SIP messages for the browser softphone (RFC 3261 §7, §20): parse one WebSocket frame into
// a request or response, print one back, and build the requests and responses a user agent
// sends. Pure functions and a small class: no DOM, no `window`, so `node --test` runs the
// unit tests in sip_message.test.mjs. Over a WebSocket each frame holds exactly one message
// (RFC 7118 §5), so the body is the rest of the frame; a Content-Length, when present,
// must agree with it.

// RFC 3261 §7.3.3 compact forms, and the canonical spelling of the headers we print.
const COMPACT = {
  i: "Call-ID", m: "Contact", e: "Content-Encoding", l: "Content-Length", c: "Content-Type",
  f: "From", s: "Subject", k: "Supported", t: "To", v: "Via", o: "Event", r: "Refer-To",
  b: "Referred-By", u: "Allow-Events",
};
const CANONICAL = new Map(
  ["Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Type", "Content-Length",
    "Route", "Record-Route", "Expires", "WWW-Authenticate", "Proxy-Authenticate", "Authorization",
    "Proxy-Authorization", "User-Agent", "Allow", "Supported", "Min-Expires", "Reason", "Event",
    "Refer-To", "Referred-By", "Allow-Events", "Content-Encoding", "Subject", "Server", "Require"]
    .map((h) => [h.toLowerCase(), h]),
);
// Headers whose value is a comma-separated list that may be split over several lines.
const LISTS = new Set(["via", "route", "record-route", "contact", "allow", "supported", "require"]);

export class SipError extends Error {}

export function canonicalName(name) {
  const n = name.trim();
  const lower = n.length === 1 ? (COMPACT[n.toLowerCase()] || n).toLowerCase() : n.toLowerCase();
  return CANONICAL.get(lower) || n;
}

// Splits a header value at commas outside quotes and angle brackets.
export function splitList(value) {
  const out = [];
  let cur = "";
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      cur += ch;
      if (ch === "\\" && i + 1 < value.length) cur += value[++i];
      else if (ch === '"') quoted = false;
    } else if (ch === '"') { quoted = true; cur += ch; }
    else if (ch === "<") { angle++; cur += ch; }
    else if (ch === ">") { angle = Math.max(0, angle - 1); cur += ch; }
    else if (ch === "," && angle === 0) { if (cur.trim()) out.push(cur.trim()); cur = ""; }
    else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export class SipMessage {
  constructor() {
    this.method = null; // requests
    this.uri = null;
    this.status = null; // responses
    this.reason = null;
    this.headers = []; // [name, value] in order, names canonical
    this.body = "";
  }

  get isRequest() { return this.method !== null; }

  get(name) {
    const n = canonicalName(name).toLowerCase();
    const h = this.headers.find(([k]) => k.toLowerCase() === n);
    return h ? h[1] : null;
  }

  // Every value of `name`, list headers split into their elements.
  all(name) {
    const n = canonicalName(name).toLowerCase();
    const values = this.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
    return LISTS.has(n) ? values.flatMap(splitList) : values;
  }

  set(name, value) {
    this.remove(name);
    this.headers.push([canonicalName(name), String(value)]);
    return this;
  }

  add(name, value) {
    this.headers.push([canonicalName(name), String(value)]);
    return this;
  }

  remove(name) {
    const n = canonicalName(name).toLowerCase();
    this.headers = this.headers.filter(([k]) => k.toLowerCase() !== n);
    return this;
  }

  get callId() { return this.get("Call-ID"); }

  get cseq() {
    const v = this.get("CSeq") || "";
    const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(v);
    return m ? { seq: Number(m[1]), method: m[2].toUpperCase() } : null;
  }

  get from() { return parseNameAddr(this.get("From") || ""); }

  get to() { return parseNameAddr(this.get("To") || ""); }

  // The top Via's branch (the transaction key with the CSeq method).
  get branch() {
    const via = this.all("Via")[0];
    return via ? params(via).branch || null : null;
  }

  toString() {
    const start = this.isRequest
      ? `${this.method} ${this.uri} SIP/2.0`
      : `SIP/2.0 ${this.status} ${this.reason || ""}`;
    const lines = [start];
    for (const [k, v] of this.headers) if (k !== "Content-Length") lines.push(`${k}: ${v}`);
    lines.push(`Content-Length: ${utf8Length(this.body)}`);
    return `${lines.join("\r\n")}\r\n\r\n${this.body}`;
  }
}

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

// One SIP message from one frame. Throws SipError naming what is wrong.
export function parse(text) {
  if (typeof text !== "string") throw new SipError("not text");
  const cut = text.indexOf("\r\n\r\n");
  const head = cut >= 0 ? text.slice(0, cut) : text.replace(/\r\n$/, "");
  let body = cut >= 0 ? text.slice(cut + 4) : "";
  const lines = head.split("\r\n");
  const start = lines.shift() || "";
  const msg = new SipMessage();
  let m;
  if ((m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start))) {
    msg.status = Number(m[1]);
    msg.reason = m[2];
  } else if ((m = /^([A-Za-z!%*_+`'~.-]+) (\S+) SIP\/2\.0$/.exec(start))) {
    msg.method = m[1].toUpperCase();
    msg.uri = m[2];
  } else {
    throw new SipError(`bad start line: ${start.slice(0, 80)}`);
  }
  for (const line of lines) {
    if (/^[ \t]/.test(line)) { // folded continuation (RFC 3261 §7.3.1)
      const last = msg.headers[msg.headers.length - 1];
      if (!last) throw new SipError("continuation before any header");
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new SipError(`bad header line: ${line.slice(0, 80)}`);
    msg.headers.push([canonicalName(line.slice(0, colon)), line.slice(colon + 1).trim()]);
  }
  for (const need of ["Via", "From", "To", "Call-ID", "CSeq"]) {
    if (!msg.get(need)) throw new SipError(`missing ${need}`);
  }
  if (!msg.cseq) throw new SipError("bad CSeq");
  const length = msg.get("Content-Length");
  if (length !== null) {
    if (!/^\d+$/.test(length.trim())) throw new SipError("bad Content-Length");
    const n = Number(length);
    const bytes = new TextEncoder().encode(body);
    if (n > bytes.length) throw new SipError("body shorter than Content-Length");
    body = new TextDecoder().decode(bytes.slice(0, n));
  }
  msg.body = body;
  return msg;
}

// `;a=b;c` parameters of a header element (after its URI or value), lower-case names.
export function params(value) {
  const out = {};
  // Parameters after the closing `>` of a name-addr, or after the first `;` otherwise.
  const close = value.lastIndexOf(">");
  const tail = close >= 0 ? value.slice(close + 1) : value.slice(Math.max(0, value.indexOf(";")));
  for (const part of tail.split(";").slice(close >= 0 ? 1 : 0)) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    const k = (eq >= 0 ? part.slice(0, eq) : part).trim().toLowerCase();
    if (!k) continue;
    out[k] = eq >= 0 ? part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1") : "";
  }
  return out;
}

// `"Name" <sip:u@h>;tag=x` or `sip:u@h;tag=x` → { display, uri, tag, params }.
export function parseNameAddr(value) {
  const v = String(value).trim();
  const a = v.indexOf("<");
  const b = v.indexOf(">", a);
  let display = "";
  let uri;
  if (a >= 0 && b > a) {
    display = v.slice(0, a).trim().replace(/^"(.*)"$/, "$1");
    uri = v.slice(a + 1, b);
  } else {
    const semi = v.indexOf(";");
    uri = semi >= 0 ? v.slice(0, semi) : v;
  }
  const p = params(v);
  return { display, uri: uri.trim(), tag: p.tag || null, params: p };
}

// `sip:1001@host;transport=ws` → { user: "1001", host: "host" }.
export function uriUser(uri) {
  const m = /^sips?:(?:([^@;>]+)@)?([^;?>]+)/.exec(String(uri).trim());
  return m ? { user: m[1] ? decodeURIComponent(m[1]) : "", host: m[2] } : { user: "", host: "" };
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function randomToken(n = 10) {
  const bytes = new Uint8Array(n);
  globalThis.crypto.getRandomValues(bytes);
  return [...bytes].map((x) => ALPHABET[x % ALPHABET.length]).join("");
}

export const newBranch = () => `z9hG4bK${randomToken(16)}`;
export const newTag = () => randomToken(10);
export const newCallId = () => randomToken(20);

// A request from its parts. `headers` are extra [name, value] pairs after the core ones.
export function request({ method, uri, via, from, to, callId, cseq, contact, headers = [], body = "", contentType = null }) {
  const msg = new SipMessage();
  msg.method = method;
  msg.uri = uri;
  msg.add("Via", via);
  msg.add("Max-Forwards", 70);
  msg.add("From", from);
  msg.add("To", to);
  msg.add("Call-ID", callId);
  msg.add("CSeq", `${cseq} ${method}`);
  if (contact) msg.add("Contact", contact);
  for (const [k, v] of headers) msg.add(k, v);
  if (body) msg.add("Content-Type", contentType || "application/sdp");
  msg.body = body;
  return msg;
}

// The response to `req` (RFC 3261 §8.2.6): Via, From, Call-ID and CSeq copied, To copied
// with `toTag` added when it has none (not on 100 Trying).
export function response(req, status, reason, { toTag = null, contact = null, headers = [], body = "", contentType = null } = {}) {
  const msg = new SipMessage();
  msg.status = status;
  msg.reason = reason || REASONS[status] || "";
  for (const v of req.all("Via")) msg.add("Via", v);
  for (const v of req.all("Record-Route")) msg.add("Record-Route", v);
  msg.add("From", req.get("From"));
  let to = req.get("To");
  if (toTag && status !== 100 && !req.to.tag) to = `${to};tag=${toTag}`;
  msg.add("To", to);
  msg.add("Call-ID", req.callId);
  msg.add("CSeq", req.get("CSeq"));
  if (contact) msg.add("Contact", contact);
  for (const [k, v] of headers) msg.add(k, v);
  if (body) msg.add("Content-Type", contentType || "application/sdp");
  msg.body = body;
  return msg;
}

export const REASONS = {
  100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 202: "Accepted",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  407: "Proxy Authentication Required", 408: "Request Timeout", 415: "Unsupported Media Type",
  480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 486: "Busy Here",
  487: "Request Terminated", 488: "Not Acceptable Here", 491: "Request Pending",
  500: "Server Internal Error", 503: "Service Unavailable", 603: "Decline",
};

// The body of an INFO for one keypad digit (application/dtmf-relay, as SIP phones send).
export function dtmfRelay(digit, durationMs = 160) {
  if (!/^[0-9*#A-D]$/i.test(String(digit))) throw new SipError(`not a DTMF digit: ${digit}`);
  return `Signal=${String(digit).toUpperCase()}\r\nDuration=${durationMs}\r\n`;
}

// The parameters of a digest challenge (`Digest realm="x", nonce="y", ...`).
export function parseChallenge(value) {
  const v = String(value || "").trim();
  if (!/^digest\s/i.test(v)) return null;
  const out = {};
  const re = /([a-zA-Z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
  let m;
  while ((m = re.exec(v.slice(6)))) out[m[1].toLowerCase()] = m[2] !== undefined ? m[2] : m[3];
  return out;
}
