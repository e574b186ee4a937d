// The agent desktop: login, state control, offers, chats and wrap-up, on the REST API and
// the /api/events stream. Plain modern JS, no build step.
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
  chats: new Map(),
  wrapQueue: [],
  wrapping: null,
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
  if (!desk.agent) {
    await api("POST", "/api/logout").catch(() => {});
    showLogin("This account is not an agent: the desktop needs an agent account.");
    return;
  }
  $("who").textContent = `${account.name || account.id} · agent ${desk.agent}`;
  $("login-view").hidden = true;
  $("work-view").hidden = false;
  let view = (await api("GET", `/api/agents/${encodeURIComponent(desk.agent)}`)).agent;
  if (view.state.state === "logged_out") {
    view = (await api("POST", `/api/agents/${encodeURIComponent(desk.agent)}/login`,
      { state: "not_ready", reason: "Login" })).agent;
  }
  setState(view.state, view.state_since_ms);
  connectEvents();
  // After a reload: the chats still open or waiting for their wrap-up.
  const open = await api("GET", `/api/agents/${encodeURIComponent(desk.agent)}/chats`).catch(() => []);
  for (const chat of open) {
    if (desk.chats.has(chat.interaction)) continue;
    openChat(chat);
    if (chat.ended) chatEnded({ interaction: chat.interaction, by: "earlier", wrap_up_codes: chat.wrap_up_codes });
  }
}

// ---- state ----

function setState(state, sinceMs) {
  desk.state = state;
  desk.stateSince = sinceMs || Date.now();
  const kind = state.state;
  const label = $("state-label");
  label.textContent = STATE_LABELS[kind] || kind;
  label.dataset.state = kind;
  $("state-dot").className = `dot s-${kind}`;
  $("state-reason").textContent = kind === "not_ready" && state.reason ? `Reason: ${state.reason}` : "";
  $("rona").hidden = kind !== "rona";
  $("ready").disabled = kind === "ready";
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
  await api("POST", "/api/logout").catch(() => {});
  const events = desk.events;
  desk.events = null;
  if (events) events.close();
  desk.agent = null;
  desk.csrf = null;
  for (const id of [...desk.chats.keys()]) removeChat(id);
  hideOffer();
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
      if (ev.change && ev.change.agent === desk.agent) setState(ev.change.to, ev.change.at_ms);
      break;
    case "chat_offer":
      if (ev.agent === desk.agent) showOffer(ev);
      break;
    case "offer_cancelled":
      if (desk.offer && desk.offer.interaction === ev.interaction) hideOffer();
      break;
    case "chat_message": {
      const chat = desk.chats.get(ev.interaction);
      if (chat) addEntry(chat, ev.message);
      break;
    }
    case "chat_ended":
      if (ev.agent === desk.agent) chatEnded(ev);
      break;
  }
}

// ---- offers ----

function showOffer(ev) {
  desk.offer = ev;
  $("offer-customer").textContent = ev.customer;
  $("offer-queue").textContent = ev.queue_name ? `${ev.queue_name} (${ev.queue})` : ev.queue;
  $("offer-error").textContent = "";
  $("offer").hidden = false;
  tick();
  $("accept").focus();
}

function hideOffer() {
  desk.offer = null;
  $("offer").hidden = true;
}

async function accept() {
  const offer = desk.offer;
  if (!offer) return;
  try {
    const view = await api("POST", `/api/chats/${offer.interaction}/accept`);
    hideOffer();
    openChat(view);
  } catch (e) {
    $("offer-error").textContent = e.message;
  }
}

async function decline() {
  const offer = desk.offer;
  if (!offer) return;
  try {
    await api("POST", `/api/chats/${offer.interaction}/decline`);
  } catch (e) {
    $("offer-error").textContent = e.message;
    return;
  }
  hideOffer();
}

// ---- chats ----

function openChat(view) {
  const node = $("chat-template").content.firstElementChild.cloneNode(true);
  node.dataset.interaction = view.interaction;
  node.setAttribute("aria-label", `Chat with ${view.customer}`);
  node.querySelector(".chat-customer").textContent = view.customer;
  node.querySelector(".chat-sub").textContent = `${view.queue_name || view.queue} · chat #${view.interaction}`;
  node.querySelector(".chat-notice").textContent = `You are chatting with ${view.customer}.`;
  const chat = {
    id: view.interaction,
    view,
    node,
    transcript: node.querySelector(".transcript"),
    box: node.querySelector("textarea"),
    error: node.querySelector(".composer-error"),
    ended: false,
    seen: new Set(),
  };
  desk.chats.set(chat.id, chat);
  for (const m of view.messages) addEntry(chat, m);
  node.querySelector(".composer").addEventListener("submit", (e) => { e.preventDefault(); send(chat); });
  chat.box.addEventListener("input", () => { chat.error.textContent = ""; });
  chat.box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(chat); }
  });
  node.querySelector(".chat-end").addEventListener("click", () => endChat(chat));
  $("placeholder").hidden = true;
  $("workspace").append(node);
  chat.box.focus();
  renderList();
}

function addEntry(chat, m) {
  // The same line may come in the accept's answer and on the event stream.
  const key = `${m.at_ms}|${m.role}|${m.sender}|${m.text}`;
  if (chat.seen.has(key)) return;
  chat.seen.add(key);
  const mine = m.role === "agent" && m.sender === chat.view.agent_name;
  const entry = transcriptEntry(m, mine);
  chat.transcript.append(entry);
  chat.transcript.scrollTop = chat.transcript.scrollHeight;
}

async function send(chat) {
  const text = chat.box.value;
  if (!text.trim() || chat.ended) return;
  chat.error.textContent = "";
  try {
    const m = await api("POST", `/api/chats/${chat.id}/messages`, { text });
    addEntry(chat, m);
    chat.box.value = "";
  } catch (e) {
    chat.error.textContent = e.message;
  }
}

async function endChat(chat) {
  if (chat.ended) return;
  try {
    await api("POST", `/api/chats/${chat.id}/end`);
  } catch (e) {
    chat.error.textContent = e.message;
  }
}

function chatEnded(ev) {
  const chat = desk.chats.get(ev.interaction);
  if (chat) {
    chat.ended = true;
    chat.node.classList.add("ended");
    const notice = chat.node.querySelector(".chat-notice");
    notice.textContent = {
      customer: "The customer left: the chat has ended.",
      agent: "You ended the chat.",
    }[ev.by] || "The chat has ended.";
    notice.classList.add("ended");
    chat.box.disabled = true;
    chat.node.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  }
  desk.wrapQueue.push({ interaction: ev.interaction, codes: ev.wrap_up_codes || [], customer: chat ? chat.view.customer : "" });
  renderList();
  nextWrapUp();
}

function nextWrapUp() {
  if (desk.wrapping || desk.wrapQueue.length === 0) return;
  const w = desk.wrapQueue.shift();
  desk.wrapping = w;
  $("wrapup-sub").textContent = w.customer ? `Chat with ${w.customer} · #${w.interaction}` : `Interaction #${w.interaction}`;
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
    await api("POST", `/api/chats/${w.interaction}/wrap-up`, { codes });
  } catch (e) {
    $("wrapup-error").textContent = e.message;
    return;
  }
  desk.wrapping = null;
  $("wrapup").hidden = true;
  removeChat(w.interaction);
  nextWrapUp();
}

function removeChat(id) {
  const chat = desk.chats.get(id);
  if (chat) chat.node.remove();
  desk.chats.delete(id);
  $("placeholder").hidden = desk.chats.size > 0;
  renderList();
}

function renderList() {
  const list = $("interaction-list");
  list.replaceChildren();
  for (const chat of desk.chats.values()) {
    const li = document.createElement("li");
    const icon = document.createElement("span");
    icon.className = "list-icon";
    icon.setAttribute("role", "img");
    icon.setAttribute("aria-label", "Chat");
    icon.append($("offer-channel").querySelector("svg").cloneNode(true));
    const name = document.createElement("span");
    name.textContent = chat.view.customer;
    const st = document.createElement("span");
    st.className = "state";
    st.textContent = chat.ended ? "Wrap-up" : "Active";
    li.append(icon, name, st);
    list.append(li);
  }
}

// ---- clock ----

function tick() {
  $("state-time").textContent = clock(Date.now() - desk.stateSince);
  if (desk.offer) $("offer-wait").textContent = clock(Date.now() - desk.offer.arrived_ms);
}

document.addEventListener("DOMContentLoaded", async () => {
  $("login-form").addEventListener("submit", login);
  $("ready").addEventListener("click", goReady);
  $("not-ready").addEventListener("click", goNotReady);
  $("rona-ready").addEventListener("click", goReady);
  $("rona-not-ready").addEventListener("click", goNotReady);
  $("logout").addEventListener("click", logout);
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
