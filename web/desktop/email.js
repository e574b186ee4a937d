// The e-mail channel in the desktop: the offer (envelope icon, customer, address, subject,
// queue, time since it arrived), the pane "E-mail from NAME" (the thread newest first with
// "Show earlier messages", each mail's headers, its safe HTML in a sandboxed frame or its
// text, files, "View original", the outbox status of replies), Quick reply (plain text),
// Reply / Reply all (the rich-text editor of email_editor.js), Transfer (to another e-mail
// queue only), End, drafts kept on the server when the agent leaves the editor, the
// customer's contact history, and the wrap-up after Send, End or Transfer.
// The desktop's scripts share one global scope: this file's top-level names start with
// "email" (or EMAIL_).
"use strict";

const emails = new Map();
const EMAIL_STATUS = { queued: "Queued", sent: "Sent", retrying: "Retrying", failed: "Failed", received: "" };

const emailName = (v) => v.thread.customer_name || v.thread.customer;
const emailWhen = (ms) => new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

function emailEl(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

function openEmail(view) {
  const id = view.thread.id;
  let mail = emails.get(id);
  if (!mail) {
    const node = $("email-template").content.firstElementChild.cloneNode(true);
    node.dataset.thread = id;
    mail = {
      id, view, node, mode: null, ended: false, epoch: 0, earlier: false, timer: null,
      error: node.querySelector(".email-error"),
      notice: node.querySelector(".email-notice"),
      quick: node.querySelector(".email-quick-text"),
      outbox: new Map(),
    };
    mail.scheduleDraft = () => { clearTimeout(mail.timer); mail.timer = setTimeout(() => emailSaveDraft(mail), 1500); };
    emails.set(id, mail);
    wireEmail(mail);
    mail.editor = emailEditor(mail);
    desk.show(node);
  }
  const working = view.state === "working";
  // A new piece of work on the thread (accepted again): a wrap-up still owed for the
  // last one must not close this pane.
  if (working && (mail.ended || mail.epoch === 0)) {
    mail.epoch += 1;
    mail.notice.textContent = `You are working on the e-mail from ${emailName(view)}.`;
  }
  mail.view = view;
  mail.ended = !working;
  mail.node.classList.toggle("ended", mail.ended);
  renderEmail(mail);
  if (view.draft && !mail.ended && !mail.mode) {
    emailOpenMode(mail, view.draft.kind, view.draft);
    mail.notice.textContent = `Your draft from ${emailWhen(view.draft.saved_ms)} is back.`;
  }
  listEmail(mail);
  return mail;
}

function listEmail(mail) {
  desk.setItem(`email-${mail.id}`, {
    channel: "email",
    channelLabel: "E-mail",
    label: emailName(mail.view),
    status: mail.ended ? "Wrap-up" : "Active",
  });
}

function removeEmail(id) {
  const mail = emails.get(id);
  if (!mail) return;
  clearTimeout(mail.timer);
  desk.hidden(mail.node);
  emails.delete(id);
  desk.removeItem(`email-${id}`);
}

function wireEmail(mail) {
  const q = (s) => mail.node.querySelector(s);
  q(".email-quick").addEventListener("click", () => emailOpenMode(mail, "quick"));
  q(".email-reply").addEventListener("click", () => emailOpenMode(mail, "standard"));
  q(".email-reply-all").addEventListener("click", () => emailOpenMode(mail, "all"));
  q(".email-end").addEventListener("click", () => emailAct(mail, "end"));
  q(".email-transfer").addEventListener("click", () => {
    const box = q(".email-transfer-box");
    const select = q(".email-transfer-queue");
    select.replaceChildren();
    for (const t of mail.view.transfer_queues || []) {
      const o = emailEl("option", "", `${t.name} (${t.dn})`);
      o.value = t.dn;
      select.append(o);
    }
    if (!select.options.length) {
      mail.error.textContent = "There is no other e-mail queue to transfer to.";
      return;
    }
    box.hidden = false;
    select.focus();
  });
  q(".email-transfer-cancel").addEventListener("click", () => { q(".email-transfer-box").hidden = true; });
  q(".email-transfer-box").addEventListener("submit", (e) => {
    e.preventDefault();
    emailAct(mail, "transfer", { queue: q(".email-transfer-queue").value });
  });
  q(".email-quick-box").addEventListener("submit", (e) => { e.preventDefault(); emailSend(mail); });
  q(".email-editor").addEventListener("submit", (e) => { e.preventDefault(); emailSend(mail); });
  mail.node.querySelectorAll(".email-discard").forEach((b) => b.addEventListener("click", () => emailDiscard(mail)));
  mail.quick.addEventListener("input", () => { mail.error.textContent = ""; mail.scheduleDraft(); });
  // Leaving the editor (another pane, the sidebar, anything outside it) keeps the draft.
  for (const f of [q(".email-quick-box"), q(".email-editor")]) {
    f.addEventListener("focusout", (e) => { if (!f.contains(e.relatedTarget)) emailSaveDraft(mail); });
  }
  q(".email-earlier").addEventListener("click", () => { mail.earlier = !mail.earlier; renderEmail(mail); });
}

// ---- the thread ----

function renderEmail(mail) {
  const v = mail.view;
  const q = (s) => mail.node.querySelector(s);
  mail.node.setAttribute("aria-label", `E-mail from ${emailName(v)}`);
  q(".email-subject").textContent = v.thread.subject;
  q(".email-sub").textContent = `${emailName(v)} <${v.thread.customer}> · ${v.queue_name || v.thread.queue} · e-mail #${v.thread.id}`;
  mail.node.querySelectorAll(".email-actions button").forEach((b) => { b.disabled = mail.ended; });
  const newest = [...v.messages].reverse();
  q(".email-thread").replaceChildren(...newest.slice(0, 1).map((m) => emailMessageNode(mail, m)));
  const earlier = newest.slice(1);
  const toggle = q(".email-earlier");
  toggle.hidden = earlier.length === 0;
  toggle.textContent = mail.earlier ? "Hide earlier messages" : `Show earlier messages (${earlier.length})`;
  toggle.setAttribute("aria-expanded", String(mail.earlier));
  const list = q(".email-earlier-list");
  list.hidden = !mail.earlier;
  list.replaceChildren(...(mail.earlier ? earlier.map((m) => emailMessageNode(mail, m)) : []));
  emailHistory(mail);
}

function emailMessageNode(mail, m, threadId) {
  const thread = threadId || mail.id;
  const inbound = m.direction === "in";
  const art = emailEl("article", `email-message ${inbound ? "in" : "out"}`);
  art.dataset.message = m.id;
  art.setAttribute("aria-label", `${inbound ? "Mail from" : "Reply from"} ${m.from_name || m.from}, ${emailWhen(m.at_ms)}`);
  const head = emailEl("header", "email-message-head");
  const facts = emailEl("dl", "email-headers");
  const row = (k, val) => { if (val) facts.append(emailEl("dt", "", k), emailEl("dd", "", val)); };
  row("From", m.from_name ? `${m.from_name} <${m.from}>` : m.from);
  row("To", m.to);
  row("Cc", m.cc);
  row("Date", emailWhen(m.at_ms));
  if (!inbound && m.agent) row("Agent", m.agent);
  head.append(facts);
  const side = emailEl("div", "email-message-side");
  if (!inbound) {
    const o = (mail && mail.outbox.get(m.id)) || { status: m.status, error: m.error, attempts: m.attempts };
    const badge = emailEl("span", `badge outbox s-${o.status}`, EMAIL_STATUS[o.status] || o.status);
    badge.setAttribute("role", "status");
    badge.setAttribute("aria-label", `Outbox: ${EMAIL_STATUS[o.status] || o.status}`);
    if (o.error) badge.title = o.error;
    side.append(badge);
    if (o.status !== "sent" && o.error) side.append(emailEl("span", "email-outbox-error", o.error));
  }
  if (m.has_original) {
    const a = emailEl("a", "email-original", "View original");
    a.href = `/api/emails/${thread}/messages/${m.id}/original`;
    a.target = "_blank";
    a.rel = "noopener";
    side.append(a);
  }
  head.append(side);
  art.append(head);
  art.append(m.html ? emailFrame(m, thread) : emailEl("div", "email-text", m.text));
  if (m.files && m.files.length) {
    const files = emailEl("ul", "email-files");
    files.setAttribute("aria-label", "Attachments");
    for (const f of m.files) {
      const li = emailEl("li");
      const a = emailEl("a", "file-link", f.name);
      a.href = `/api/emails/${thread}/files/${encodeURIComponent(f.id)}`;
      a.setAttribute("download", f.name);
      li.append(a, emailEl("span", "email-file-size", fileSize(f.size)));
      files.append(li);
    }
    art.append(files);
  }
  return art;
}

// The server's sanitised HTML, shown in a frame without scripts (sandboxed, so even a
// sanitiser's miss could not run), its inline images pointed at the stored files.
function emailFrame(m, thread) {
  const doc = new DOMParser().parseFromString(m.html, "text/html");
  for (const img of doc.querySelectorAll("img")) {
    const src = img.getAttribute("src") || "";
    const f = src.startsWith("cid:") && (m.files || []).find((x) => x.content_id === src.slice(4));
    if (f) img.setAttribute("src", `/api/emails/${thread}/files/${encodeURIComponent(f.id)}`);
    else if (!src.startsWith("/")) img.removeAttribute("src");
  }
  const frame = emailEl("iframe", "email-frame");
  frame.setAttribute("sandbox", "allow-same-origin allow-popups allow-popups-to-escape-sandbox");
  frame.setAttribute("title", "Message");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.srcdoc = `<!doctype html><html><head><meta charset="utf-8"><base target="_blank">` +
    `<link rel="stylesheet" href="${location.origin}/desktop/email.css"></head>` +
    `<body class="email-frame-body">${doc.body.innerHTML}</body></html>`;
  frame.addEventListener("load", () => {
    const d = frame.contentDocument;
    if (d) frame.style.height = `${Math.min(Math.max(d.documentElement.scrollHeight, 40), 900)}px`;
  });
  return frame;
}

function emailHistory(mail) {
  const list = mail.node.querySelector(".email-history-list");
  list.replaceChildren();
  for (const h of mail.view.history || []) {
    const li = emailEl("li", "email-history-item");
    const line = emailEl("div", "email-history-line");
    line.append(emailEl("strong", "", h.subject), emailEl("span", "email-history-meta",
      `${emailWhen(h.created_ms)} · ${h.state === "open" ? "open" : "closed"}${h.agent ? ` · agent ${h.agent}` : ""}`));
    const b = emailEl("button", "small secondary", "Show");
    b.type = "button";
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-label", `Show the e-mail “${h.subject}”`);
    const box = emailEl("div", "email-history-thread");
    box.hidden = true;
    b.addEventListener("click", async () => {
      box.hidden = !box.hidden;
      b.textContent = box.hidden ? "Show" : "Hide";
      b.setAttribute("aria-expanded", String(!box.hidden));
      if (box.hidden || box.childElementCount) return;
      try {
        const past = await api("GET", `/api/emails/${h.id}`);
        box.replaceChildren(...[...past.messages].reverse().map((m) => emailMessageNode(null, m, h.id)));
      } catch (e) {
        box.append(emailEl("p", "empty", e.code === "not_yours"
          ? "Another agent handled this e-mail; a supervisor can open it."
          : e.message));
      }
    });
    line.append(b);
    li.append(line, box);
    list.append(li);
  }
  mail.node.querySelector(".email-history-empty").hidden = (mail.view.history || []).length > 0;
}

// ---- replying ----

// What the server will address (the customer; reply-all adds the last mail's others as
// Cc) and the subject it will use: shown, not editable.
function emailReplyTo(mail, kind) {
  const v = mail.view;
  const others = kind === "all" ? v.reply_all_cc || [] : [];
  const s = v.thread.subject;
  return {
    to: v.thread.customer + (others.length ? `; Cc ${others.join(", ")}` : ""),
    subject: /^re:/i.test(s) ? s : `Re: ${s}`,
  };
}

function emailOpenMode(mail, kind, draft) {
  if (mail.ended) return;
  const q = (s) => mail.node.querySelector(s);
  const was = mail.mode;
  // What was written goes along into the other box.
  let carry = null;
  if (was === "quick" && kind !== "quick" && mail.quick.value.trim()) carry = { html: emailTextToHtml(mail.quick.value) };
  if (was && was !== "quick" && kind === "quick" && !mail.editor.empty()) carry = { text: mail.editor.body.innerText };
  mail.mode = kind;
  const { to, subject } = emailReplyTo(mail, kind);
  q(".email-quick-box").hidden = kind !== "quick";
  q(".email-editor").hidden = kind === "quick";
  mail.error.textContent = "";
  if (kind === "quick") {
    q(".email-to-ro").value = mail.view.thread.customer;
    if (draft) mail.quick.value = draft.text || "";
    else if (carry) mail.quick.value = carry.text;
    mail.quick.focus();
  } else {
    mail.editor.open(kind, to, subject, draft || (carry && { html: carry.html, cc: mail.editor.ccList() }));
  }
  q(".email-quick-box").scrollIntoView({ block: "nearest" });
}

function emailTextToHtml(text) {
  return text.split(/\n{2,}/).map((para) => {
    const p = document.createElement("p");
    para.split("\n").forEach((line, i) => { if (i) p.append(document.createElement("br")); p.append(line); });
    return p.outerHTML;
  }).join("");
}

function emailCloseMode(mail) {
  mail.mode = null;
  mail.node.querySelector(".email-quick-box").hidden = true;
  mail.node.querySelector(".email-editor").hidden = true;
  mail.quick.value = "";
  mail.editor.clear();
}

function emailDraftBody(mail) {
  if (mail.mode === "quick") return { kind: "quick", text: mail.quick.value, html: "", cc: [] };
  return { kind: mail.mode, text: "", html: mail.editor.empty() ? "" : mail.editor.body.innerHTML, cc: mail.editor.ccList() };
}

// Keep what is being written on the server (`keepalive`: the page is going away).
async function emailSaveDraft(mail, keepalive) {
  clearTimeout(mail.timer);
  if (!mail.mode || mail.ended || mail.sending) return;
  const d = emailDraftBody(mail);
  const empty = !d.text.trim() && !d.html && d.cc.length === 0;
  const path = `/api/emails/${mail.id}/draft`;
  if (keepalive) {
    fetch(path, {
      method: empty ? "DELETE" : "PUT",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": desk.csrf || "" },
      body: empty ? undefined : JSON.stringify(d),
    }).catch(() => {});
    return;
  }
  try {
    if (empty) await api("DELETE", path);
    else {
      const kept = await api("PUT", path, d);
      mail.node.dataset.draftSaved = String(kept.saved_ms);
      mail.node.querySelectorAll(".email-draft-state").forEach((n) => {
        n.textContent = `Draft saved ${new Date(kept.saved_ms).toLocaleTimeString()}`;
      });
    }
  } catch (e) {
    if (!mail.ended) mail.error.textContent = `The draft was not saved: ${e.message}`;
  }
}

async function emailDiscard(mail) {
  clearTimeout(mail.timer);
  emailCloseMode(mail);
  try { await api("DELETE", `/api/emails/${mail.id}/draft`); } catch (_) { /* gone with the thread */ }
}

async function emailSend(mail) {
  if (mail.ended || mail.sending || !mail.mode) return;
  mail.error.textContent = "";
  let body;
  if (mail.mode === "quick") {
    if (!mail.quick.value.trim()) { mail.error.textContent = "Write the reply first."; return; }
    body = { kind: "quick", text: mail.quick.value };
  } else {
    if (mail.editor.empty()) { mail.error.textContent = "Write the reply first."; return; }
    try {
      body = { kind: mail.mode, html: mail.editor.body.innerHTML, cc: mail.editor.ccList(),
        attachments: await mail.editor.attachments() };
    } catch (e) { mail.error.textContent = e.message; return; }
  }
  mail.sending = true;
  clearTimeout(mail.timer);
  mail.node.querySelectorAll(".email-send").forEach((b) => { b.disabled = true; b.textContent = "Sending…"; });
  try {
    const view = await api("POST", `/api/emails/${mail.id}/reply`, body);
    emailCloseMode(mail);
    openEmail(view);
  } catch (e) {
    mail.error.textContent = e.message;
  } finally {
    mail.sending = false;
    mail.node.querySelectorAll(".email-send").forEach((b) => { b.disabled = false; b.textContent = "Send"; });
  }
}

async function emailAct(mail, what, body) {
  mail.error.textContent = "";
  try {
    await api("POST", `/api/emails/${mail.id}/${what}`, body);
    mail.node.querySelector(".email-transfer-box").hidden = true;
  } catch (e) {
    mail.error.textContent = e.message;
  }
}

// ---- events ----

function emailEnded(ev) {
  const mail = emails.get(ev.thread);
  if (mail) {
    mail.ended = true;
    clearTimeout(mail.timer);
    mail.mode = null;
    mail.node.querySelector(".email-quick-box").hidden = true;
    mail.node.querySelector(".email-editor").hidden = true;
    mail.node.querySelector(".email-transfer-box").hidden = true;
    mail.node.classList.add("ended");
    mail.node.querySelectorAll(".email-actions button").forEach((b) => { b.disabled = true; });
    mail.notice.textContent = {
      answered: "You replied: the e-mail is answered.",
      ended: "You ended the e-mail without a reply.",
      transferred: "You transferred the e-mail to another queue.",
    }[ev.how] || "The e-mail is done.";
    listEmail(mail);
  }
  const epoch = mail ? mail.epoch : 0;
  desk.wrapUp({
    key: `email-${ev.thread}`,
    label: mail ? `E-mail from ${emailName(mail.view)} · #${ev.thread}` : `E-mail #${ev.thread}`,
    codes: ev.wrap_up_codes || [],
    submit: async (codes) => {
      await api("POST", `/api/emails/${ev.thread}/wrap-up`, { codes });
      const now = emails.get(ev.thread);
      // Offered again and accepted meanwhile: that pane stays.
      if (now && now.ended && now.epoch === epoch) removeEmail(ev.thread);
    },
  });
}

function emailOutboxEvent(status) {
  return (ev) => {
    const mail = emails.get(ev.thread);
    if (!mail) return;
    mail.outbox.set(ev.message, { status, error: ev.error || "", attempts: ev.attempts });
    const old = mail.node.querySelector(`.email-message[data-message="${ev.message}"]`);
    const m = mail.view.messages.find((x) => x.id === ev.message);
    if (old && m) old.replaceWith(emailMessageNode(mail, m));
  };
}

desk.offerKinds.email = {
  title: "Incoming e-mail",
  label: "E-mail",
  sub: (offer) => offer.subject,
  facts: (offer) => [["Address", offer.address]],
  accept: async (offer) => { openEmail(await api("POST", `/api/emails/${offer.thread}/accept`)); },
  decline: (offer) => api("POST", `/api/emails/${offer.thread}/decline`),
};

desk.on("email_offer", (ev) => { if (ev.agent === desk.agent) showOffer({ ...ev, channel: "email" }); });
desk.on("email_message", async (ev) => {
  const mail = emails.get(ev.thread);
  if (!mail || ev.agent !== desk.agent) return;
  try {
    openEmail(await api("GET", `/api/emails/${ev.thread}`));
    mail.notice.textContent = "The customer wrote again: the newest mail is on top.";
  } catch (e) { mail.error.textContent = e.message; }
});
desk.on("email_ended", (ev) => { if (ev.agent === desk.agent) emailEnded(ev); });
desk.on("email_sent", emailOutboxEvent("sent"));
desk.on("email_retry", emailOutboxEvent("retrying"));
desk.on("email_failed", emailOutboxEvent("failed"));

// After a reload: the e-mails worked, waiting for their wrap-up, or offered.
desk.onBegin(async () => {
  const mine = await api("GET", `/api/agents/${encodeURIComponent(desk.agent)}/emails`).catch(() => []);
  for (const v of mine) {
    if (v.state === "offered") {
      showOffer({ type: "email_offer", channel: "email", thread: v.thread.id, interaction: v.interaction,
        agent: desk.agent, customer: emailName(v), address: v.thread.customer, subject: v.thread.subject,
        queue: v.thread.queue, queue_name: v.queue_name, arrived_ms: v.thread.updated_ms });
      continue;
    }
    openEmail(v);
    if (v.state === "wrap_up") emailEnded({ thread: v.thread.id, agent: desk.agent, how: "earlier", wrap_up_codes: v.wrap_up_codes });
  }
});

desk.onEnd(() => { for (const id of [...emails.keys()]) removeEmail(id); });

// The page going away (reload, close): what is being written is kept.
window.addEventListener("pagehide", () => { for (const mail of emails.values()) emailSaveDraft(mail, true); });
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") for (const mail of emails.values()) emailSaveDraft(mail, true);
});
