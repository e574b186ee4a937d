// The transcript entry both pages show: an element with data-sender and data-time, the
// sender's name (coloured by role), the time, and the text (never parsed as HTML). A file
// sent in the chat (m.attachment) shows as a card with its name, size and a download link
// (class file-link, data-url; the customer's page fetches it with its chat token).
// Also the upload both pages use: uploadFile().
"use strict";

function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function fileSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

const FILE_ICON = '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/><path d="M14 3v5h5"/></svg>';

function fileCard(a) {
  const card = document.createElement("div");
  card.className = "file";
  card.dataset.fileId = a.id;
  const icon = document.createElement("span");
  icon.className = "file-icon";
  icon.innerHTML = FILE_ICON; // a constant, never data
  const body = document.createElement("div");
  body.className = "file-body";
  const link = document.createElement("a");
  link.className = "file-link";
  link.href = a.url;
  link.dataset.url = a.url;
  link.download = a.name;
  link.textContent = a.name;
  link.title = `Download ${a.name}`;
  const size = document.createElement("span");
  size.className = "file-size";
  size.textContent = `${fileSize(a.size)} · ${a.content_type.split(";")[0]}`;
  body.append(link, size);
  card.append(icon, body);
  return card;
}

function transcriptEntry(m, mine) {
  const entry = document.createElement("div");
  entry.className = `entry role-${m.role}` + (mine ? " mine" : "") + (m.attachment ? " has-file" : "");
  entry.dataset.sender = m.sender;
  entry.dataset.time = new Date(m.at_ms).toISOString();
  entry.dataset.role = m.role;
  const meta = document.createElement("div");
  meta.className = "meta";
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = m.sender;
  const time = document.createElement("time");
  time.dateTime = entry.dataset.time;
  time.textContent = timeOf(m.at_ms);
  meta.append(who, time);
  entry.append(meta);
  if (m.attachment) {
    entry.append(fileCard(m.attachment));
  } else {
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = m.text;
    entry.append(text);
  }
  return entry;
}

// Sends `file` into chat `chatId` (POST /api/chats/{id}/attachments?name=...) with these
// extra headers, reporting progress (0..1) to onProgress. Resolves with the transcript
// entry; rejects with an Error whose message is the server's reason.
function uploadFile(chatId, file, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/chats/${chatId}/attachments?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (_) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const e = (data && data.error) || {};
      const err = new Error(e.message || `${xhr.status} ${xhr.statusText}`);
      err.code = e.code || "error";
      reject(err);
    };
    xhr.onerror = () => reject(new Error("the file could not be sent (connection lost)"));
    xhr.send(file);
  });
}

// The "Attach file" control's state: "Sending NAME… 40%", a refusal, or nothing.
function uploadStatus(node, text, kind) {
  node.textContent = text || "";
  node.classList.toggle("refused", kind === "refused");
  node.classList.toggle("sending", kind === "sending");
}
