// Predefined responses in the chat composer: a searchable picker beside the message box.
// Choosing a template puts its text, with {customer} and {agent} filled in, into the box,
// where the agent may edit it before sending. Loaded after chat.js, which calls
// templatePicker(chat) for each chat pane it opens.
"use strict";

function fillTemplate(text, chat) {
  return text.replaceAll("{customer}", chat.view.customer).replaceAll("{agent}", chat.view.agent_name);
}

function templatePicker(chat) {
  const node = chat.node;
  const toggle = node.querySelector(".template-toggle");
  const picker = node.querySelector(".template-picker");
  const search = picker.querySelector("input");
  const list = picker.querySelector(".template-list");
  if (!toggle || !picker) return;
  let timer = null;

  async function load() {
    const q = encodeURIComponent(search.value.trim());
    const queue = encodeURIComponent(chat.view.queue);
    list.replaceChildren();
    try {
      const found = await api("GET", `/api/chat/templates?queue=${queue}&q=${q}`);
      for (const t of found.templates) {
        const item = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "template-item";
        const title = document.createElement("strong");
        title.textContent = t.title;
        const text = document.createElement("span");
        text.textContent = fillTemplate(t.text, chat);
        b.append(title, text);
        b.addEventListener("click", () => {
          chat.box.value = fillTemplate(t.text, chat);
          picker.hidden = true;
          toggle.setAttribute("aria-expanded", "false");
          chat.box.focus();
        });
        item.append(b);
        list.append(item);
      }
      if (found.templates.length === 0) {
        const none = document.createElement("li");
        none.className = "empty";
        none.textContent = "No template matches.";
        list.append(none);
      }
    } catch (e) {
      chat.error.textContent = e.message;
    }
  }

  toggle.addEventListener("click", () => {
    picker.hidden = !picker.hidden;
    toggle.setAttribute("aria-expanded", String(!picker.hidden));
    if (!picker.hidden) { search.focus(); load(); }
  });
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 200); });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { picker.hidden = true; toggle.setAttribute("aria-expanded", "false"); }
  });
}
