// The agent desktop's core: login, state control, the event stream, offer pop-ups, the
// list of my interactions and the wrap-up dialog, on the REST API and /api/events. Each
// channel or tool (chat.js, ...) is its own file and plugs in through `desk`:
//   desk.on(type, fn)          handle an /api/events message of that type
//   desk.onBegin(fn) / desk.onEnd(fn) / desk.onTick(fn)
//   desk.onSupervise(fn)     at login, for accounts that supervise (supervisor.js)
//   desk.offerKinds[channel] = { title, label, sub, note, facts(offer), accept(offer), acceptLabel, decline(offer) }
//     (`sub` a string or a function of the offer; `facts` extra [label, value] rows)
//   desk.setItem(id, { channel, label, status }) / desk.removeItem(id)
//   desk.show(node)            put a pane in the workspace
//   desk.wrapUp({ key, label, codes, required, submit(codes) })
// Plain modern JS, no build step.
"use strict";

const $ = (id) => document.getElementById(id);

const STATE_LABELS = {
  logged_out: "Logged out",
  not_ready: "Not Ready",
  ready: "Ready",
  reserved: "Reserved",
  busy: "Busy",
  after_call_work: "After-Call Work",
  rona: "RONA",
};

const desk = {
  csrf: null,
  account: null,
  agent: null,
  state: null,
  stateSince: Date.now(),
  events: null,
  offer: null,
  items: new Map(),
  wrapQueue: [],
  wrapping: null,
  handlers: new Map(),
  begins: [],
  supervises: [],
  ends: [],
  ticks: [],
  offerKinds: {},
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
  },
  onBegin(fn) { this.begins.push(fn); },
  onSupervise(fn) { this.supervises.push(fn); },
  onEnd(fn) { this.ends.push(fn); },
  onTick(fn) { this.ticks.push(fn); },
  setItem(id, item) { this.items.set(id, item); renderList(); },
  removeItem(id) { this.items.delete(id); renderList(); },
  show(node) {
    $("placeholder").hidden = true;
    $("workspace").append(node);
  },
  hidden(node) {
    node.remove();
    $("placeholder").hidden = $("workspace").querySelectorAll(":scope > :not(#placeholder)").length > 0;
  },
  wrapUp(w) { this.wrapQueue.push(w); nextWrapUp(); },
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && desk.csrf) headers["X-CSRF-Token"] = desk.csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || "error", e.message || `${res.status} ${res.statusText}`);
  }
  return data;
}

function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${String(m).padStart(2, "0")}:${sec}`;
}

// ---- login ----

function showLogin(message) {
  $("work-view").hidden = true;
  $("login-view").hidden = false;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
  $("user").focus();
}

async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  const user = $("user").value.trim();
  const password = $("password").value;
  if (!user || !password) {
    $("login-error").textContent = "Enter your user ID and password.";
    return;
  }
  $("login-button").disabled = true;
  try {
    const r = await api("POST", "/api/login", { user, password });
    $("password").value = "";
    await begin(r.account, r.csrf_token);
  } catch (e) {
    $("login-error").textContent = e.status === 401 ? "Wrong user ID or password." : e.message;
  } finally {
    $("login-button").disabled = false;
  }
}

async function begin(account, csrf) {
  desk.account = account;
  desk.csrf = csrf;
  desk.agent = account.agent;
  const supervises = (account.roles || []).some((r) => r === "supervisor" || r === "administrator");
  if (!desk.agent && !supervises) {
    await api("POST", "/api/logout").catch(() => {});
    showLogin("This account is neither an agent nor a supervisor: the desktop needs one of those.");
    return;
  }
  $("login-view").hidden = true;
  $("work-view").hidden = false;
  // A supervisor who is no agent gets the Team pane alone, and a Log out of their own.
  document.body.classList.toggle("supervisor-only", !desk.agent);
  $("sv-logout").hidden = !!desk.agent;
  if (supervises) {
    for (const fn of desk.supervises) {
      try { await fn(); } catch (e) { console.error(e); }
    }
  }
  if (!desk.agent) {
    $("who").textContent = `${account.name || account.id} · supervisor`;
    return;
  }
  $("who").textContent = `${account.name || account.id} · agent ${desk.agent}`;
  let view = (await api("GET", `/api/agents/${encodeURIComponent(desk.agent)}`)).agent;
  if (view.state.state === "logged_out") {
    view = (await api("POST", `/api/agents/${encodeURIComponent(desk.agent)}/login`,
      { state: "not_ready", reason: "Login" })).agent;
  }
  setState(view.state, view.state_since_ms);
  connectEvents();
  for (const fn of desk.begins) {
    try { await fn(); } catch (e) { console.error(e); }
  }
}

// ---- state ----

// `cause`: why it changed, when an agent_state event says (a declined offer's RONA).
function setState(state, sinceMs, cause) {
  desk.state = state;
  desk.stateSince = sinceMs || Date.now();
  const kind = state.state;
  const label = $("state-label");
  label.textContent = STATE_LABELS[kind] || kind;
  label.dataset.state = kind;
  $("state-dot").className = `dot s-${kind}`;
  $("state-reason").textContent = kind === "not_ready" && state.reason ? `Reason: ${state.reason}` : "";
  $("rona").hidden = kind !== "rona";
  if (kind === "rona") {
    const declined = cause === "offer_rejected";
    $("rona-title").textContent = declined ? "You declined an offer" : "You missed an offer";
    $("rona-text").textContent = declined
      ? "The interaction went back to its queue for the next agent. Choose your state:"
      : "An interaction was not accepted in time and went back to its queue. Choose your state:";
  }
  // Ready is offered only where the agent can choose it: not while on an offer or a call.
  $("ready").disabled = kind === "ready" || kind === "busy" || kind === "reserved";
  tick();
}

async function request(body) {
  $("state-error").textContent = "";
  try {
    const view = (await api("POST", `/api/agents/${encodeURIComponent(desk.agent)}/state`, body)).agent;
    setState(view.state, view.state_since_ms);
  } catch (e) {
    $("state-error").textContent = e.message;
  }
}

const goReady = () => request({ state: "ready" });
const goNotReady = () => request({ state: "not_ready", reason: $("reason").value });

async function logout() {
  $("state-error").textContent = "";
  try {
    await api("POST", `/api/agents/${encodeURIComponent(desk.agent)}/logout`);
  } catch (e) {
    $("state-error").textContent = e.message;
    return;
  }
  await endSession();
}

// The account's session ends: the API's, the event stream, every pane.
async function endSession() {
  await api("POST", "/api/logout").catch(() => {});
  const events = desk.events;
  desk.events = null;
  if (events) events.close();
  desk.agent = null;
  desk.csrf = null;
  for (const fn of desk.ends) fn();
  desk.wrapQueue = [];
  desk.wrapping = null;
  $("wrapup").hidden = true;
  hideOffer();
  $("sv-logout").hidden = true;
  document.body.classList.remove("supervisor-only");
  showLogin("You are logged out.");
}

// ---- events ----

function connectEvents() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/events?agent=${encodeURIComponent(desk.agent)}`);
  desk.events = ws;
  ws.onmessage = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch (_) { return; }
    onEvent(ev);
  };
  ws.onclose = () => {
    if (desk.events === ws && desk.agent) setTimeout(() => { if (desk.events === ws) connectEvents(); }, 2000);
  };
}

function onEvent(ev) {
  switch (ev.type) {
    case "snapshot": {
      const me = (ev.agents || []).find((a) => a.id === desk.agent);
      if (me) setState(me.state, me.state_since_ms);
      break;
    }
    case "agent_state":
      if (ev.change && ev.change.agent === desk.agent) setState(ev.change.to, ev.change.at_ms, ev.change.cause);
      break;
    case "offer_cancelled":
      if (desk.offer && desk.offer.interaction === ev.interaction) hideOffer();
      break;
  }
  for (const fn of desk.handlers.get(ev.type) || []) fn(ev);
}

// ---- offers ----

// An offer of any channel: `ev.channel` names its entry in desk.offerKinds.
function showOffer(ev) {
  const kind = desk.offerKinds[ev.channel];
  if (!kind) return;
  desk.offer = ev;
  $("offer-title").textContent = kind.title;
  $("offer-channel").setAttribute("aria-label", kind.label);
  $("offer-channel").title = kind.label;
  $("offer-channel").replaceChildren(icon(ev.channel));
  $("offer-customer").textContent = ev.customer;
  $("offer-queue").textContent = ev.queue_name ? `${ev.queue_name} (${ev.queue})` : ev.queue;
  $("offer-error").textContent = "";
  // A channel without accept/decline over REST (voice: answer on the phone) says so.
  const sub = typeof kind.sub === "function" ? kind.sub(ev) : kind.sub;
  $("offer-sub").textContent = sub || "Accept to start the conversation";
  const facts = $("offer-facts");
  facts.querySelectorAll(".extra").forEach((n) => n.remove());
  for (const [label, value] of kind.facts ? kind.facts(ev) : []) {
    const dt = document.createElement("dt");
    dt.className = "extra";
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.className = "extra";
    dd.textContent = value;
    facts.insertBefore(dd, $("offer-wait-label"));
    facts.insertBefore(dt, dd);
  }
  $("accept").hidden = !kind.accept;
  $("accept").textContent = kind.acceptLabel || "Accept";
  $("decline").hidden = !kind.decline;
  $("offer-note").textContent = kind.note || "";
  $("offer-note").hidden = !kind.note;
  $("offer").hidden = false;
  tick();
  if (kind.accept) $("accept").focus();
}

function hideOffer() {
  desk.offer = null;
  $("offer").hidden = true;
}

async function accept() {
  const offer = desk.offer;
  if (!offer) return;
  try {
    await desk.offerKinds[offer.channel].accept(offer);
    if (desk.offer === offer) hideOffer();
  } catch (e) {
    $("offer-error").textContent = e.message;
  }
}

async function decline() {
  const offer = desk.offer;
  if (!offer) return;
  try {
    await desk.offerKinds[offer.channel].decline(offer);
  } catch (e) {
    $("offer-error").textContent = e.message;
    return;
  }
  hideOffer();
}

// ---- wrap-up ----

function nextWrapUp() {
  if (desk.wrapping || desk.wrapQueue.length === 0) return;
  const w = desk.wrapQueue.shift();
  desk.wrapping = w;
  $("wrapup-sub").textContent = w.label;
  const box = $("wrapup-codes");
  box.querySelectorAll("label").forEach((l) => l.remove());
  for (const code of w.codes) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = code;
    label.append(input, document.createTextNode(code));
    box.append(label);
  }
  box.hidden = w.codes.length === 0;
  $("wrapup-error").textContent = "";
  $("wrapup").hidden = false;
}

async function submitWrapUp(ev) {
  ev.preventDefault();
  const w = desk.wrapping;
  if (!w) return;
  const codes = [...$("wrapup-codes").querySelectorAll("input:checked")].map((i) => i.value);
  if (w.codes.length > 0 && codes.length === 0) {
    $("wrapup-error").textContent = "Choose at least one reason.";
    return;
  }
  try {
    await w.submit(codes);
  } catch (e) {
    $("wrapup-error").textContent = e.message;
    return;
  }
  desk.wrapping = null;
  $("wrapup").hidden = true;
  nextWrapUp();
}

// ---- my interactions ----

// The channel's icon: a copy of the page's <template id="icon-CHANNEL">.
function icon(channel) {
  const t = $(`icon-${channel}`) || $("icon-chat");
  return t.content.firstElementChild.cloneNode(true);
}

function renderList() {
  const list = $("interaction-list");
  list.replaceChildren();
  for (const [id, item] of desk.items) {
    const li = document.createElement("li");
    li.dataset.item = id;
    const mark = document.createElement("span");
    mark.className = "list-icon";
    mark.setAttribute("role", "img");
    mark.setAttribute("aria-label", item.channelLabel || item.channel);
    mark.append(icon(item.channel));
    const name = document.createElement("span");
    name.textContent = item.label;
    const st = document.createElement("span");
    st.className = "state";
    st.textContent = item.status;
    li.append(mark, name, st);
    list.append(li);
  }
}

// ---- clock ----

function tick() {
  $("state-time").textContent = clock(Date.now() - desk.stateSince);
  if (desk.offer) $("offer-wait").textContent = clock(Date.now() - desk.offer.arrived_ms);
  for (const fn of desk.ticks) fn();
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("ready").addEventListener("click", goReady);
  $("not-ready").addEventListener("click", goNotReady);
  $("rona-ready").addEventListener("click", goReady);
  $("rona-not-ready").addEventListener("click", goNotReady);
  $("logout").addEventListener("click", logout);
  $("sv-logout").addEventListener("click", endSession);
  $("accept").addEventListener("click", accept);
  $("decline").addEventListener("click", decline);
  $("wrapup-form").addEventListener("submit", submitWrapUp);
  setInterval(tick, 1000);
  try {
    const me = await api("GET", "/api/me");
    if (me && me.csrf_token) {
      await begin(me.account, me.csrf_token);
      return;
    }
  } catch (_) { /* not logged in */ }
  showLogin();
});
