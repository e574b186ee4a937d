// The e-mail reply editor of the desktop's e-mail pane (email.js): rich text in a
// contenteditable box with its toolbar (Heading, Bold, Italic, Underline, Strikethrough,
// Text colour, Numbered / Bulleted list, Quote, Table, Link, Indent, Outdent), To and
// Subject read-only, Cc, the Template picker (the customer's and the agent's names filled
// in) and Attach file (at most the configured count and total size, listed with their
// sizes). The server sanitises what is sent and what a draft keeps; the editor only makes
// it. Loaded before email.js, which calls emailEditor(mail) for each pane it opens.
"use strict";

const EMAIL_MAX_FILES = 10;
const EMAIL_MAX_BYTES = 25 * 1024 * 1024;
// The file types the switch can check (config KNOWN_TYPES); the server's own list, a
// subset, has the last word.
const EMAIL_TYPES = ["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "rtf", "png", "jpg",
  "jpeg", "gif", "bmp", "tif", "tiff", "zip"];

function emailEditor(mail) {
  const form = mail.node.querySelector(".email-editor");
  const body = form.querySelector(".email-body");
  const palette = form.querySelector(".email-palette");
  const linkbar = form.querySelector(".email-linkbar");
  const linkUrl = form.querySelector(".email-link-url");
  const chosen = form.querySelector(".email-chosen");
  const input = form.querySelector(".email-attach-input");
  const picker = form.querySelector(".email-templates");
  const toggle = form.querySelector(".email-template-toggle");
  const ed = { form, body, cc: form.querySelector(".email-cc"), files: [], range: null };

  // Formatting as elements (<b>, <font color>) the sanitiser keeps, not inline CSS.
  const exec = (cmd, arg) => {
    body.focus();
    restore();
    document.execCommand("styleWithCSS", false, false);
    document.execCommand(cmd, false, arg === undefined ? null : arg);
    changed();
  };
  const changed = () => { mail.error.textContent = ""; mail.draftDirty = true; mail.scheduleDraft(); };
  const save = () => {
    const sel = window.getSelection();
    if (sel.rangeCount && body.contains(sel.anchorNode)) ed.range = sel.getRangeAt(0).cloneRange();
  };
  // Put the caret back where it was, unless it is still in the text (then leave it, and
  // with it the typing style a button just toggled).
  const restore = () => {
    const sel = window.getSelection();
    if (!ed.range || (sel.rangeCount && body.contains(sel.anchorNode))) return;
    sel.removeAllRanges();
    sel.addRange(ed.range);
  };
  const blockOf = () => {
    const sel = window.getSelection();
    let n = sel.anchorNode;
    while (n && n !== body) {
      if (n.nodeType === 1 && /^(H[1-6]|BLOCKQUOTE|P|DIV|LI)$/.test(n.nodeName)) return n.nodeName;
      n = n.parentNode;
    }
    return "";
  };

  body.addEventListener("input", changed);
  body.addEventListener("keyup", save);
  body.addEventListener("mouseup", save);
  body.addEventListener("blur", save);
  ed.cc.addEventListener("input", changed);

  const tools = {
    heading: () => exec("formatBlock", blockOf() === "H3" ? "<p>" : "<h3>"),
    quote: () => exec("formatBlock", blockOf() === "BLOCKQUOTE" ? "<p>" : "<blockquote>"),
    colour: () => { palette.hidden = !palette.hidden; linkbar.hidden = true; },
    table: () => {
      const cell = "<td>&nbsp;</td><td>&nbsp;</td>";
      exec("insertHTML", `<table><tbody><tr>${cell}</tr><tr>${cell}</tr></tbody></table><p><br></p>`);
    },
    link: () => { linkbar.hidden = false; palette.hidden = true; linkUrl.value = "https://"; linkUrl.focus(); },
  };
  for (const b of form.querySelectorAll(".email-toolbar .tool")) {
    // Keep the selection in the text while a button is pressed.
    b.addEventListener("mousedown", (e) => e.preventDefault());
    b.addEventListener("click", () => (tools[b.dataset.cmd] || (() => exec(b.dataset.cmd)))());
  }
  for (const s of palette.querySelectorAll(".swatch")) {
    s.style.background = s.dataset.colour;
    s.title = s.getAttribute("aria-label");
    s.addEventListener("mousedown", (e) => e.preventDefault());
    s.addEventListener("click", () => { exec("foreColor", s.dataset.colour); palette.hidden = true; });
  }
  const insertLink = () => {
    const url = linkUrl.value.trim();
    if (!/^(https?:\/\/|mailto:)\S+$/i.test(url)) {
      mail.error.textContent = "Enter a link starting with https://, http:// or mailto:.";
      return;
    }
    linkbar.hidden = true;
    const sel = window.getSelection();
    restore();
    if (!ed.range || ed.range.collapsed || !sel.toString()) {
      const a = document.createElement("a");
      a.href = url;
      a.textContent = url;
      exec("insertHTML", a.outerHTML);
    } else {
      exec("createLink", url);
    }
  };
  form.querySelector(".email-link-go").addEventListener("click", insertLink);
  linkUrl.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); insertLink(); } });
  form.querySelector(".email-link-cancel").addEventListener("click", () => { linkbar.hidden = true; });

  // ---- attachments ----
  const renderFiles = () => {
    chosen.replaceChildren();
    ed.files.forEach((f, i) => {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.className = "email-file-name";
      name.textContent = f.name;
      const size = document.createElement("span");
      size.className = "email-file-size";
      size.textContent = fileSize(f.size);
      const rm = document.createElement("button");
      rm.type = "button";
      rm.className = "small secondary";
      rm.textContent = "Remove";
      rm.setAttribute("aria-label", `Remove ${f.name}`);
      rm.addEventListener("click", () => { ed.files.splice(i, 1); renderFiles(); });
      li.append(name, size, rm);
      chosen.append(li);
    });
    if (ed.files.length) {
      const total = ed.files.reduce((n, f) => n + f.size, 0);
      const li = document.createElement("li");
      li.className = "email-file-total";
      li.textContent = `${ed.files.length} of ${EMAIL_MAX_FILES} files · ${fileSize(total)} of ${fileSize(EMAIL_MAX_BYTES)}`;
      chosen.append(li);
    }
  };
  input.accept = EMAIL_TYPES.map((t) => `.${t}`).join(",");
  form.querySelector(".email-attach").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const picked = [...input.files];
    input.value = "";
    let total = ed.files.reduce((n, f) => n + f.size, 0);
    const refused = [];
    for (const f of picked) {
      if (ed.files.length >= EMAIL_MAX_FILES) { refused.push(`${f.name}: at most ${EMAIL_MAX_FILES} files`); continue; }
      if (total + f.size > EMAIL_MAX_BYTES) { refused.push(`${f.name}: the files may total at most ${fileSize(EMAIL_MAX_BYTES)}`); continue; }
      if (f.size === 0) { refused.push(`${f.name}: the file is empty`); continue; }
      const ext = (f.name.split(".").pop() || "").toLowerCase();
      if (!f.name.includes(".") || !EMAIL_TYPES.includes(ext)) { refused.push(`${f.name}: files of this type may not be sent`); continue; }
      total += f.size;
      ed.files.push(f);
    }
    mail.error.textContent = refused.join("; ");
    renderFiles();
  });
  ed.clearFiles = () => { ed.files = []; renderFiles(); };
  ed.attachments = () => Promise.all(ed.files.map((f) => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve({ name: f.name, data: String(r.result).replace(/^data:[^,]*,/, "") });
    r.onerror = () => reject(new Error(`${f.name}: the file could not be read`));
    r.readAsDataURL(f);
  })));

  // ---- templates ----
  const fill = (text) => text
    .replaceAll("{customer}", mail.view.thread.customer_name || mail.view.thread.customer)
    .replaceAll("{agent}", (desk.account && desk.account.name) || desk.agent);
  const list = picker.querySelector(".template-list");
  const search = picker.querySelector("input");
  const closePicker = () => { picker.hidden = true; toggle.setAttribute("aria-expanded", "false"); };
  const load = async () => {
    list.replaceChildren();
    try {
      const q = encodeURIComponent(search.value.trim());
      const found = await api("GET", `/api/chat/templates?queue=${encodeURIComponent(mail.view.thread.queue)}&q=${q}`);
      for (const t of found.templates) {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "template-item";
        const title = document.createElement("strong");
        title.textContent = t.title;
        const text = document.createElement("span");
        text.textContent = fill(t.text);
        b.append(title, text);
        b.addEventListener("click", () => {
          closePicker();
          // The template's text as paragraphs, at the cursor (or the end).
          const html = fill(t.text).split(/\n{2,}/).map((para) => {
            const p = document.createElement("p");
            para.split("\n").forEach((line, i) => { if (i) p.append(document.createElement("br")); p.append(line); });
            return p.outerHTML;
          }).join("");
          if (!ed.range) { body.focus(); const r = document.createRange(); r.selectNodeContents(body); r.collapse(false); ed.range = r; }
          exec("insertHTML", html);
        });
        li.append(b);
        list.append(li);
      }
      if (found.templates.length === 0) {
        const none = document.createElement("li");
        none.className = "empty";
        none.textContent = "No template matches.";
        list.append(none);
      }
    } catch (e) {
      mail.error.textContent = e.message;
    }
  };
  let timer = null;
  toggle.addEventListener("click", () => {
    picker.hidden = !picker.hidden;
    toggle.setAttribute("aria-expanded", String(!picker.hidden));
    if (!picker.hidden) { search.focus(); load(); }
  });
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 200); });
  search.addEventListener("keydown", (e) => { if (e.key === "Escape") closePicker(); });

  // ---- open / read ----
  ed.open = (kind, to, subject, draft) => {
    ed.kind = kind;
    form.querySelector(".email-to").value = to;
    form.querySelector(".email-subject-ro").value = subject;
    form.dataset.kind = kind;
    form.setAttribute("aria-label", kind === "all" ? "Reply all" : "Reply");
    if (draft) {
      // The server sanitised the draft (as it does a reply) before keeping it.
      body.innerHTML = draft.html || "";
      ed.cc.value = (draft.cc || []).join(", ");
    }
    palette.hidden = true;
    linkbar.hidden = true;
    closePicker();
    body.focus();
  };
  ed.clear = () => { body.innerHTML = ""; ed.cc.value = ""; ed.range = null; ed.clearFiles(); };
  ed.ccList = () => ed.cc.value.split(/[,;\s]+/).map((a) => a.trim()).filter(Boolean);
  ed.empty = () => !body.textContent.trim() && !body.querySelector("img, table");
  return ed;
}
