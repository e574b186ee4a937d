// The chat channel in the desktop: the offer, the chat pane (transcript, composer, End),
// its place in "My interactions" and its wrap-up. Loaded after desktop.js.
"use strict";

const chats = new Map();

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
  chats.set(chat.id, chat);
  for (const m of view.messages) addEntry(chat, m);
  node.querySelector(".composer").addEventListener("submit", (e) => { e.preventDefault(); send(chat); });
  chat.box.addEventListener("input", () => { chat.error.textContent = ""; });
  chat.box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(chat); }
  });
  node.querySelector(".chat-end").addEventListener("click", () => endChat(chat));
  if (typeof templatePicker === "function") templatePicker(chat);
  if (typeof chatAttachments === "function") chatAttachments(chat);
  desk.show(node);
  chat.box.focus();
  listChat(chat);
  document.dispatchEvent(new CustomEvent("chat-open", { detail: chat }));
}

function listChat(chat) {
  desk.setItem(`chat-${chat.id}`, {
    channel: "chat",
    channelLabel: "Chat",
    label: chat.view.customer,
    status: chat.ended ? "Wrap-up" : "Active",
  });
}

function removeChat(id) {
  const chat = chats.get(id);
  if (chat) desk.hidden(chat.node);
  chats.delete(id);
  desk.removeItem(`chat-${id}`);
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
  const chat = chats.get(ev.interaction);
  if (chat) {
    chat.ended = true;
    chat.node.classList.add("ended");
    const notice = chat.node.querySelector(".chat-notice");
    notice.textContent = {
      customer: "The customer left: the chat has ended.",
      agent: "You ended the chat.",
      transfer: "You transferred the chat.",
    }[ev.by] || "The chat has ended.";
    notice.classList.add("ended");
    chat.box.disabled = true;
    chat.node.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  }
  if (chat) listChat(chat);
  const customer = chat ? chat.view.customer : "";
  desk.wrapUp({
    label: customer ? `Chat with ${customer} · #${ev.interaction}` : `Interaction #${ev.interaction}`,
    codes: ev.wrap_up_codes || [],
    submit: async (codes) => {
      await api("POST", `/api/chats/${ev.interaction}/wrap-up`, { codes });
      removeChat(ev.interaction);
    },
  });
}

desk.offerKinds.chat = {
  title: "Incoming chat",
  label: "Chat",
  accept: async (offer) => openChat(await api("POST", `/api/chats/${offer.interaction}/accept`)),
  decline: (offer) => api("POST", `/api/chats/${offer.interaction}/decline`),
};

desk.on("chat_offer", (ev) => { if (ev.agent === desk.agent) showOffer({ ...ev, channel: "chat" }); });
desk.on("chat_message", (ev) => {
  const chat = chats.get(ev.interaction);
  if (chat) addEntry(chat, ev.message);
});
desk.on("chat_ended", (ev) => { if (ev.agent === desk.agent && !ev.guest) chatEnded(ev); });

// After a reload: the chats still open or waiting for their wrap-up.
desk.onBegin(async () => {
  const open = await api("GET", `/api/agents/${encodeURIComponent(desk.agent)}/chats`).catch(() => []);
  for (const chat of open) {
    if (chats.has(chat.interaction)) continue;
    openChat(chat);
    if (chat.ended && !chat.guest) chatEnded({ interaction: chat.interaction, by: "earlier", wrap_up_codes: chat.wrap_up_codes });
  }
});

desk.onEnd(() => { for (const id of [...chats.keys()]) removeChat(id); });

