// The customer's chat page: a name and an ACD DN, then one WebSocket to /api/chat/ws.
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null;
let ended = false;
// The text sent last: cleared from the box when the server echoes it (kept when refused).
let pending = null;

function addEntry(m) {
  const entry = transcriptEntry(m, m.role === "customer");
  const t = $("transcript");
  t.append(entry);
  t.scrollTop = t.scrollHeight;
}

function status(text, isEnded) {
  $("status").textContent = text;
  $("status").classList.toggle("ended", !!isEnded);
}

function finish(reason) {
  if (ended) return;
  ended = true;
  status(reason ? `Chat ended: ${reason}.` : "Chat ended.", true);
  $("message").disabled = true;
  $("send").disabled = true;
  $("disconnect").hidden = true;
  $("new-chat").hidden = false;
}

function onFrame(f) {
  switch (f.type) {
    case "joined":
      $("conversation").dataset.interaction = f.interaction;
      $("start").hidden = true;
      $("conversation").hidden = false;
      $("conv-title").textContent = `${f.queue_name}`;
      $("conv-sub").textContent = `You are chatting as ${f.name}`;
      status("Waiting for an agent…");
      $("message").focus();
      break;
    case "queued":
      status(f.position === 1
        ? "Waiting for an agent… you are next in the queue."
        : `Waiting for an agent… you are number ${f.position} in the queue.`);
      break;
    case "agent_joined":
      status(`You are chatting with ${f.name}.`);
      break;
    case "agent_left":
      status(`${f.name} left the chat.`, true);
      break;
    case "message":
      addEntry(f.message);
      if (f.message.role === "customer" && pending !== null && $("message").value === pending) {
        $("message").value = "";
        pending = null;
      }
      break;
    case "error":
      if ($("conversation").hidden) {
        $("start-error").textContent = f.message;
      } else {
        $("send-error").textContent = f.message;
      }
      break;
    case "ended":
      finish(f.reason);
      break;
  }
}

function start(ev) {
  ev.preventDefault();
  const name = $("name").value.trim();
  const dn = $("dn").value.trim();
  $("start-error").textContent = "";
  if (!name || !dn) {
    $("start-error").textContent = "Please enter your name and the ACD DN.";
    return;
  }
  ended = false;
  $("chat-button").disabled = true;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/chat/ws`);
  socket.onopen = () => socket.send(JSON.stringify({ type: "join", name, dn }));
  socket.onmessage = (e) => {
    try { onFrame(JSON.parse(e.data)); } catch (err) { console.error(err); }
  };
  socket.onclose = () => {
    $("chat-button").disabled = false;
    if (!$("conversation").hidden) finish("");
  };
}

function send(ev) {
  if (ev) ev.preventDefault();
  const text = $("message").value;
  if (!text.trim() || !socket || socket.readyState !== WebSocket.OPEN) return;
  $("send-error").textContent = "";
  pending = text;
  socket.send(JSON.stringify({ type: "message", text }));
}

function disconnect() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ type: "leave" }));
  }
  finish("you left the chat");
}

document.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(location.search);
  if (params.get("dn")) $("dn").value = params.get("dn");
  if (params.get("name")) $("name").value = params.get("name");
  $("start-form").addEventListener("submit", start);
  $("composer").addEventListener("submit", send);
  $("message").addEventListener("input", () => { $("send-error").textContent = ""; });
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) send(e);
  });
  $("disconnect").addEventListener("click", disconnect);
  $("new-chat").addEventListener("click", () => location.reload());
});
