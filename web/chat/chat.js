// The customer's chat page: a name and an ACD DN, then one WebSocket to /api/chat/ws.
// Files go over HTTP with the chat's token (from the joined frame): "Attach file" uploads,
// and a file's link is fetched with the token and saved under its name.
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null;
let ended = false;
let chatId = null;
let token = null;
let uploading = false;
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
  $("attach").disabled = true;
  $("disconnect").hidden = true;
  $("new-chat").hidden = false;
}

function onFrame(f) {
  switch (f.type) {
    case "joined":
      $("conversation").dataset.interaction = f.interaction;
      chatId = f.interaction;
      token = f.token;
      loadFileRules();
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

// The allowed types and the budget, for the picker and the button's hint.
async function loadFileRules() {
  try {
    const res = await fetch(`/api/chats/${chatId}/attachments`, { headers: { "X-Chat-Token": token } });
    if (!res.ok) return;
    const rules = await res.json();
    $("attach-input").accept = rules.types.map((t) => `.${t}`).join(",");
    $("attach").title = `Attach file (up to ${fileSize(rules.max_total_bytes)} in this chat)`;
  } catch (_) { /* the server still checks every file */ }
}

async function attach() {
  const input = $("attach-input");
  const file = input.files[0];
  input.value = "";
  if (!file || chatId === null || ended) return;
  $("send-error").textContent = "";
  uploading = true;
  $("attach").disabled = true;
  uploadStatus($("upload-status"), `Sending ${file.name}…`, "sending");
  try {
    await uploadFile(chatId, file, { "X-Chat-Token": token }, (p) => {
      uploadStatus($("upload-status"), `Sending ${file.name}… ${Math.round(p * 100)}%`, "sending");
    });
    uploadStatus($("upload-status"), "");
  } catch (e) {
    uploadStatus($("upload-status"), "");
    $("send-error").textContent = `${file.name}: ${e.message}`;
  } finally {
    uploading = false;
    $("attach").disabled = ended;
  }
}

// A file's link: fetched with the chat token, then saved under the file's name.
async function download(link) {
  $("send-error").textContent = "";
  try {
    const res = await fetch(link.dataset.url, { headers: { "X-Chat-Token": token } });
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try { message = (await res.json()).error.message || message; } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = link.download;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    $("send-error").textContent = `${link.download} could not be downloaded: ${e.message}`;
  }
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
  $("attach").addEventListener("click", () => { if (!uploading) $("attach-input").click(); });
  $("attach-input").addEventListener("change", attach);
  $("transcript").addEventListener("click", (e) => {
    const link = e.target.closest("a.file-link");
    if (!link) return;
    e.preventDefault();
    download(link);
  });
  $("new-chat").addEventListener("click", () => location.reload());
});
