// The team directory in the sidebar: agents, supervisors and queues of my teams, searchable
// by name, each with a presence dot and label that follow /api/events ("presence" events;
// queue counts are fetched again when someone's presence changes), and an "IM" button that
// opens an IM window (im.js). Loaded after desktop.js.
"use strict";

const directory = { q: "", people: [], queues: [], timer: null, refresh: null };

const PRESENCE_CLASSES = ["ready", "not_ready", "busy", "logged_out", "available"];

function presenceDot(presence) {
  const dot = document.createElement("span");
  dot.className = `dot p-${PRESENCE_CLASSES.includes(presence) ? presence : "logged_out"}`;
  dot.setAttribute("aria-hidden", "true");
  return dot;
}

function renderDirectory() {
  const people = $("directory-people");
  people.replaceChildren();
  for (const p of directory.people) {
    const li = document.createElement("li");
    li.dataset.person = p.id;
    li.dataset.presence = p.presence;
    const name = document.createElement("span");
    name.className = "dir-name";
    name.textContent = p.name;
    const sub = document.createElement("span");
    sub.className = "dir-sub";
    sub.textContent = [p.kind === "supervisor" ? "Supervisor" : "Agent", p.extension ? `ext. ${p.extension}` : ""]
      .filter(Boolean).join(" · ");
    const label = document.createElement("span");
    label.className = "presence-label";
    label.textContent = p.label;
    const who = document.createElement("div");
    who.className = "dir-who";
    who.append(name, sub);
    const im = document.createElement("button");
    im.type = "button";
    im.className = "secondary small";
    im.textContent = "IM";
    im.setAttribute("aria-label", `Send IM to ${p.name}`);
    im.addEventListener("click", () => imCompose(p));
    li.append(presenceDot(p.presence), who, label, im);
    people.append(li);
  }
  // A number that is nobody in the directory: an IM to that phone (SIP MESSAGE).
  if (/^[0-9]{2,20}$/.test(directory.q) && !directory.people.some((p) => p.extension === directory.q)) {
    const li = document.createElement("li");
    li.dataset.phone = directory.q;
    const who = document.createElement("div");
    who.className = "dir-who";
    const name = document.createElement("span");
    name.className = "dir-name";
    name.textContent = `Phone ${directory.q}`;
    const sub = document.createElement("span");
    sub.className = "dir-sub";
    sub.textContent = "SIP MESSAGE";
    who.append(name, sub);
    const im = document.createElement("button");
    im.type = "button";
    im.className = "secondary small";
    im.textContent = "IM";
    im.setAttribute("aria-label", `Send IM to ${directory.q}`);
    const number = directory.q;
    im.addEventListener("click", () => imCompose({ id: number, name: number, phone: true }));
    li.append(presenceDot("logged_out"), who, im);
    people.append(li);
  }
  const queues = $("directory-queues");
  queues.replaceChildren();
  for (const q of directory.queues) {
    const li = document.createElement("li");
    li.dataset.queue = q.dn;
    const name = document.createElement("span");
    name.className = "dir-name";
    name.textContent = `${q.name} (${q.dn})`;
    const counts = document.createElement("span");
    counts.className = "presence-label queue-counts";
    counts.textContent = `${q.available} available · ${q.logged_in} logged in · ${q.waiting} waiting`;
    const who = document.createElement("div");
    who.className = "dir-who";
    who.append(name);
    li.append(presenceDot(q.available > 0 ? "ready" : "logged_out"), who, counts);
    queues.append(li);
  }
  $("directory-empty").hidden = people.children.length + directory.queues.length > 0;
}

async function loadDirectory() {
  try {
    const d = await api("GET", `/api/directory?q=${encodeURIComponent(directory.q)}`);
    directory.people = d.people;
    directory.queues = d.queues;
    renderDirectory();
    $("directory-error").textContent = "";
  } catch (e) {
    $("directory-error").textContent = e.message;
  }
}

desk.on("presence", (ev) => {
  const p = directory.people.find((x) => x.id === ev.person);
  if (p) {
    p.presence = ev.presence;
    p.label = ev.label;
    renderDirectory();
  }
  // Queue counts follow agents' states: fetched again, at most every half second.
  clearTimeout(directory.refresh);
  directory.refresh = setTimeout(loadDirectory, 500);
});
for (const type of ["queued", "abandoned", "interaction"]) {
  desk.on(type, () => {
    clearTimeout(directory.refresh);
    directory.refresh = setTimeout(loadDirectory, 500);
  });
}

desk.onBegin(loadDirectory);
desk.onEnd(() => { directory.people = []; directory.queues = []; renderDirectory(); });

document.addEventListener("DOMContentLoaded", () => {
  $("directory-search").addEventListener("input", (e) => {
    directory.q = e.target.value.trim();
    clearTimeout(directory.timer);
    directory.timer = setTimeout(loadDirectory, 200);
  });
});
