// Files in the desktop's chat panes: the "Attach file" button beside the composer opens a
// file picker and sends the file (with a "Sending NAME… N%" state); a refusal shows its
// reason under the transcript; the file's entry arrives in the transcript with a link
// that downloads it (the session cookie is the credential). Loaded after chat.js, which
// calls chatAttachments(chat) for each chat pane it opens.
"use strict";

function chatAttachments(chat) {
  const button = chat.node.querySelector(".attach");
  const input = chat.node.querySelector(".attach-input");
  const status = chat.node.querySelector(".upload-status");
  if (!button || !input || !status) return;
  let busy = false;

  // The allowed types and the budget, for the picker and the button's hint.
  api("GET", `/api/chats/${chat.id}/attachments`).then((rules) => {
    input.accept = rules.types.map((t) => `.${t}`).join(",");
    button.title = `Attach file (up to ${fileSize(rules.max_total_bytes)} in this chat)`;
  }).catch(() => { /* the server still checks every file */ });

  button.addEventListener("click", () => { if (!busy && !chat.ended) input.click(); });
  input.addEventListener("change", async () => {
    const file = input.files[0];
    input.value = "";
    if (!file || chat.ended) return;
    chat.error.textContent = "";
    busy = true;
    button.disabled = true;
    uploadStatus(status, `Sending ${file.name}…`, "sending");
    try {
      const headers = desk.csrf ? { "X-CSRF-Token": desk.csrf } : {};
      const entry = await uploadFile(chat.id, file, headers, (p) => {
        uploadStatus(status, `Sending ${file.name}… ${Math.round(p * 100)}%`, "sending");
      });
      uploadStatus(status, "");
      addEntry(chat, entry);
    } catch (e) {
      uploadStatus(status, "");
      chat.error.textContent = `${file.name}: ${e.message}`;
    } finally {
      busy = false;
      button.disabled = chat.ended;
    }
  });
}
