// Chat transfer and three-way conference in the desktop: the chat pane's Transfer and
// Conference buttons and their dialog (a queue, or an agent of my teams with their state),
// the guest's view (a badge, Leave instead of End, no wrap-up), transfer pop-ups that say
// from whom, and a failed transfer's reason. Loaded after chat.js (uses its `chats`).
"use strict";

const collab = { dialog: null, chat: null, kind: null };

function collabDialog() {
  if (collab.dialog) return collab.dialog;
  const overlay = document.createElement("div");
  overlay.className = "overlay";
  overlay.hidden = true;
  overlay.innerHTML = `
    <form class="dialog card collab" role="dialog" aria-modal="true" aria-labelledby="collab-title">
      <h2 id="collab-title"></h2>
      <p class="offer-sub" id="collab-sub"></p>
      <fieldset class="codes">
        <legend>To</legend>
        <label><input type="radio" name="collab-to" value="agent" checked> An agent</label>
        <label><input type="radio" name="collab-to" value="queue"> A queue</label>
      </fieldset>
      <div class="field" id="collab-agent-field">
        <label for="collab-agent">Agent</label>
        <select id="collab-agent"></select>
      </div>
      <div class="field" id="collab-queue-field" hidden>
        <label for="collab-queue">Queue</label>
        <select id="collab-queue"></select>
      </div>
      <div class="row end">
        <button type="button" class="secondary" id="collab-cancel">Cancel</button>
        <button type="submit" id="collab-go"></button>
      </div>
      <p class="error" id="collab-error" role="alert"></p>
    </form>`;
  document.body.append(overlay);
  const form = overlay.querySelector("form");
  form.addEventListener("change", () => {
    const to = form.querySelector("input[name=collab-to]:checked").value;
    $("collab-agent-field").hidden = to !== "agent";
    $("collab-queue-field").hidden = to !== "queue";
  });
  $("collab-cancel").addEventListener("click", () => { overlay.hidden = true; });
  form.addEventListener("submit", (e) => { e.preventDefault(); collabSubmit(); });
  collab.dialog = overlay;
  return overlay;
}

async function openCollab(chat, kind) {
  const overlay = collabDialog();
  collab.chat = chat;
  collab.kind = kind;
  $("collab-title").textContent = kind === "transfer" ? "Transfer chat" : "Conference";
  $("collab-sub").textContent = kind === "transfer"
    ? `Hand the chat with ${chat.view.customer} to an agent (once they accept) or back to a queue.`
    : `Invite a second agent to the chat with ${chat.view.customer}; you keep it and end it.`;
  $("collab-go").textContent = kind === "transfer" ? "Transfer" : "Invite";
  $("collab-error").textContent = "";
  overlay.querySelector("input[value=agent]").checked = true;
  $("collab-agent-field").hidden = false;
  $("collab-queue-field").hidden = true;
  const [agents, queues] = await Promise.all([
    api("GET", "/api/chats/colleagues").catch(() => []),
    api("GET", "/api/queues").catch(() => []),
  ]);
  const agentBox = $("collab-agent");
  agentBox.replaceChildren();
  for (const a of agents || []) {
    if (a.id === desk.agent) continue;
    const state = STATE_LABELS[a.state.state] || a.state.state;
    agentBox.append(new Option(`${a.name || a.id} (${a.id}) · ${state}`, a.id));
  }
  const queueBox = $("collab-queue");
  queueBox.replaceChildren();
  for (const q of queues || []) {
    const c = q.config;
    queueBox.append(new Option(c.name ? `${c.name} (${c.dn})` : c.dn, c.dn));
  }
  overlay.hidden = false;
  agentBox.focus();
}

async function collabSubmit() {
  const chat = collab.chat;
  if (!chat) return;
  const to = collab.dialog.querySelector("input[name=collab-to]:checked").value;
  const value = to === "agent" ? $("collab-agent").value : $("collab-queue").value;
  if (!value) {
    $("collab-error").textContent = to === "agent" ? "Choose an agent." : "Choose a queue.";
    return;
  }
  try {
    await api("POST", `/api/chats/${chat.id}/${collab.kind}`, { [to]: value });
  } catch (e) {
    $("collab-error").textContent = e.message;
    return;
  }
  collab.dialog.hidden = true;
  const label = to === "agent"
    ? $("collab-agent").selectedOptions[0].textContent.split(" · ")[0]
    : $("collab-queue").selectedOptions[0].textContent;
  collabNotice(chat, collab.kind === "transfer" && to === "agent"
    ? `Transferring to ${label}: the chat stays with you until they accept.`
    : collab.kind === "conference" ? `Inviting ${label} to the chat…` : `Transferred to ${label}.`);
}

function collabNotice(chat, text) {
  const notice = chat.node.querySelector(".chat-notice");
  notice.textContent = text;
}

// A chat pane opens: its header buttons, and the guest's view.
document.addEventListener("chat-open", (e) => {
  const chat = e.detail;
  const head = chat.node.querySelector(".chat-head");
  const end = head.querySelector(".chat-end");
  if (chat.view.guest) {
    chat.guest = true;
    end.hidden = true;
    const badge = document.createElement("span");
    badge.className = "badge guest";
    badge.textContent = "Conference guest";
    head.querySelector(".chat-title").append(badge);
    const leave = document.createElement("button");
    leave.type = "button";
    leave.className = "danger chat-leave";
    leave.textContent = "Leave";
    leave.addEventListener("click", async () => {
      try {
        await api("POST", `/api/chats/${chat.id}/leave`);
        removeChat(chat.id);
      } catch (err) {
        chat.error.textContent = err.message;
      }
    });
    head.append(leave);
    collabNotice(chat, `You joined the chat with ${chat.view.customer} as a conference guest.`);
    return;
  }
  for (const [kind, label] of [["transfer", "Transfer"], ["conference", "Conference"]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `secondary chat-${kind}`;
    b.textContent = label;
    b.addEventListener("click", () => { if (!chat.ended) openCollab(chat, kind); });
    head.insertBefore(b, end);
  }
});

// A transfer or conference offer says so, and from whom.
desk.on("chat_offer", (ev) => {
  if (ev.agent !== desk.agent || !ev.kind || ev.kind === "chat") return;
  $("offer-title").textContent = ev.kind === "transfer"
    ? `Chat transfer from ${ev.from}` : `Conference invitation from ${ev.from}`;
});

desk.on("chat_invite_failed", (ev) => {
  if (ev.agent !== desk.agent) return;
  const chat = chats.get(ev.interaction);
  const what = ev.kind === "transfer" ? "Transfer" : "Conference invitation";
  if (chat) collabNotice(chat, `${what} failed: ${ev.reason}. The chat is still yours.`);
});

// The guest's part is over: the pane closes (the first agent wraps up).
desk.on("chat_left", (ev) => { if (ev.agent === desk.agent) removeChat(ev.interaction); });
desk.on("chat_ended", (ev) => {
  if (ev.agent !== desk.agent || !ev.guest) return;
  const chat = chats.get(ev.interaction);
  if (!chat) return;
  chat.ended = true;
  chat.node.classList.add("ended");
  const notice = chat.node.querySelector(".chat-notice");
  notice.textContent = "The chat has ended (the first agent wraps it up).";
  notice.classList.add("ended");
  chat.box.disabled = true;
  chat.node.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  setTimeout(() => removeChat(ev.interaction), 3000);
});

// A refusal of Ready for a pending wrap-up no longer holds once the state moved on.
desk.on("agent_state", (ev) => {
  if (ev.change && ev.change.agent === desk.agent && ev.change.to.state !== "after_call_work"
      && $("state-error").textContent.includes("wrap-up first")) $("state-error").textContent = "";
});
