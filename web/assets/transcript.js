// The transcript entry both pages show: an element with data-sender and data-time, the
// sender's name (coloured by role), the time, and the text (never parsed as HTML).
"use strict";

function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function transcriptEntry(m, mine) {
  const entry = document.createElement("div");
  entry.className = `entry role-${m.role}` + (mine ? " mine" : "");
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
  const text = document.createElement("p");
  text.className = "text";
  text.textContent = m.text;
  entry.append(meta, text);
  return entry;
}
