// The supervisor's "Team" pane in the desktop (accounts with the supervisor or
// administrator role; a supervisor who is no agent gets only this): the team's queues
// (waiting, longest wait, agents available / logged in, offered, answered, abandoned,
// service level), its agents (state with reason and time in it, what they work on; Not
// Ready and Log out on their behalf) and the team's live calls (caller, agent, queue,
// phase, duration; Listen, Whisper and Barge ring the supervisor's own phone, End
// supervision lets go). Everything comes from the REST API the account may read
// (GET /api/queues, /api/agents, /api/calls), refreshed every 2 s while the pane is up.
// Uses voice.js's voiceEl and voiceUser.
"use strict";

const sv = { node: null, timer: null, fetched: 0 };

const SV_PHASES = {
  routing: "Routing", ringing: "Ringing", queued: "Queued", talking: "Talking",
  transferring: "Transferring", consulting: "Consulting", conference: "Conference",
  voicemail: "Voicemail", ended: "Ended",
};

function svBuild() {
  const node = voiceEl("article", { class: "card sv-pane", "aria-label": "Team" },
    voiceEl("header", { class: "sv-head" },
      voiceEl("h2", { text: "Team" }),
      voiceEl("span", { class: "sv-updated", role: "status", "aria-label": "Last update" })),
    voiceEl("p", { class: "error sv-error", role: "alert" }),
    voiceEl("h3", { class: "sub-title", text: "Queues" }),
    voiceEl("table", { class: "sv-table", "aria-label": "Queues" },
      voiceEl("thead", {}, svRow("th", ["Queue", "Waiting", "Longest wait", "Available", "Offered", "Answered", "Abandoned", "Service level"])),
      voiceEl("tbody", { class: "sv-queues" })),
    voiceEl("h3", { class: "sub-title", text: "Agents" }),
    voiceEl("table", { class: "sv-table", "aria-label": "Agents" },
      voiceEl("thead", {}, svRow("th", ["Agent", "State", "Time", "Working on", ""])),
      voiceEl("tbody", { class: "sv-agents" })),
    voiceEl("h3", { class: "sub-title", text: "Live calls" }),
    voiceEl("table", { class: "sv-table", "aria-label": "Live calls" },
      voiceEl("thead", {}, svRow("th", ["Caller", "Agent", "Called", "Phase", "Duration", ""])),
      voiceEl("tbody", { class: "sv-calls" })),
    voiceEl("p", { class: "empty sv-no-calls", text: "No live calls." }));
  return node;
}

function svRow(cell, values) {
  return voiceEl("tr", {}, ...values.map((v) => (v instanceof Node ? voiceEl(cell, {}, v) : voiceEl(cell, { text: String(v) }))));
}

function svButton(text, label, cls, fn) {
  const b = voiceEl("button", { type: "button", class: cls, text, "aria-label": label });
  b.addEventListener("click", async () => {
    sv.node.querySelector(".sv-error").textContent = "";
    b.disabled = true;
    try { await fn(); await svRefresh(); } catch (e) { sv.node.querySelector(".sv-error").textContent = e.message; }
    b.disabled = false;
  });
  return b;
}

function svSince(ms) {
  return ms ? clock(Date.now() - ms) : "";
}

function svQueues(queues) {
  const body = sv.node.querySelector(".sv-queues");
  body.replaceChildren(...queues.map(({ config, stats }) => {
    const st = stats || {};
    const agents = st.agents || {};
    const logged = Object.entries(agents).filter(([k]) => k !== "logged_out").reduce((n, [, v]) => n + v, 0);
    const sl = st.service_level_pct === null || st.service_level_pct === undefined ? "—" : `${Math.round(st.service_level_pct)}%`;
    const tr = svRow("td", [`${config.name} (${config.dn})`, st.waiting || 0, clock(st.longest_wait_ms || 0),
      `${st.available || 0} / ${logged}`, st.offered || 0, st.answered || 0, st.abandoned || 0, sl]);
    tr.dataset.queue = config.dn;
    if ((st.waiting || 0) > 0 && (st.available || 0) === 0) tr.classList.add("sv-warn");
    return tr;
  }));
}

// What an agent works on: their interactions, named by the live call each is, else its
// number (a chat, an e-mail); offers ringing them.
function svWork(a, calls) {
  const byInteraction = new Map(calls.filter((c) => c.interaction).map((c) => [c.interaction, c]));
  const items = (a.interactions || []).map((i) => {
    const call = byInteraction.get(i);
    return call ? `call with ${voiceUser(call.from)}` : `interaction ${i}`;
  });
  for (const i of a.offers || []) {
    const call = byInteraction.get(i);
    items.push(call ? `offered call from ${voiceUser(call.from)}` : `offer ${i}`);
  }
  return items.join(", ") || "—";
}

function svAgents(agents, calls) {
  const body = sv.node.querySelector(".sv-agents");
  body.replaceChildren(...agents.map((a) => {
    const kind = a.state.state;
    const label = (STATE_LABELS[kind] || kind) + (kind === "not_ready" && a.state.reason ? ` (${a.state.reason})` : "");
    const state = voiceEl("span", { class: "sv-state" },
      voiceEl("span", { class: `dot s-${kind}`, "aria-hidden": "true" }), voiceEl("span", { text: label }));
    const name = a.name || a.id;
    const actions = voiceEl("span", { class: "sv-actions" });
    if (kind !== "logged_out" && kind !== "not_ready") {
      actions.append(svButton("Not Ready", `Make ${name} Not Ready`, "secondary",
        () => api("POST", `/api/agents/${encodeURIComponent(a.id)}/state`, { state: "not_ready", reason: "Supervisor" })));
    }
    if (kind !== "logged_out") {
      actions.append(svButton("Log out", `Log ${name} out`, "secondary",
        () => api("POST", `/api/agents/${encodeURIComponent(a.id)}/logout`)));
    }
    const tr = svRow("td", [`${name} (${a.extension || a.id})`, state, svSince(a.state_since_ms), svWork(a, calls), actions]);
    tr.dataset.agent = a.id;
    return tr;
  }));
}

function svCalls(calls, agents, queues) {
  const agentName = new Map(agents.map((a) => [a.id, a.name || a.id]));
  const queueName = new Map(queues.map((q) => [q.config.dn, `${q.config.name} (${q.config.dn})`]));
  const mine = desk.account && desk.account.extension;
  const body = sv.node.querySelector(".sv-calls");
  sv.node.querySelector(".sv-no-calls").hidden = calls.length > 0;
  body.replaceChildren(...calls.map((c) => {
    const caller = voiceUser(c.from);
    const actions = voiceEl("span", { class: "sv-actions" });
    const supervising = c.supervisor && c.supervisor.extension === mine;
    const path = (tail) => `/api/calls/${encodeURIComponent(c.id)}${tail}`;
    if (c.phase === "talking" && mine && (!c.supervisor || supervising)) {
      for (const [text, mode] of [["Listen", "listen"], ["Whisper", "whisper"], ["Barge", "barge"]]) {
        if (supervising && c.supervisor.mode === mode) continue;
        actions.append(svButton(text, `${text} on the call with ${caller}`, "secondary",
          () => api("POST", path("/supervise"), { mode, extension: mine })));
      }
    }
    if (supervising) {
      actions.append(svButton("End supervision", `End supervision of the call with ${caller}`, "danger",
        () => api("POST", path("/end-supervise"))));
    }
    const phase = (SV_PHASES[c.phase] || c.phase) +
      (c.supervisor ? ` · ${c.supervisor.mode}${c.supervisor.joined ? "" : " (ringing)"} by ${c.supervisor.extension}` : "");
    const called = voiceUser(c.to);
    const tr = svRow("td", [caller, agentName.get(c.agent) || c.agent || "—", queueName.get(called) || called, phase, svSince(c.answered_ms || c.started_ms), actions]);
    tr.dataset.call = c.id;
    return tr;
  }));
  if (!mine && calls.length > 0) {
    sv.node.querySelector(".sv-error").textContent = "Your account has no extension: set one to listen to calls from your phone.";
  }
}

async function svRefresh() {
  if (!sv.node) return;
  const [queues, agents, calls] = await Promise.all([
    api("GET", "/api/queues"), api("GET", "/api/agents"), api("GET", "/api/calls")]);
  svQueues(queues || []);
  svAgents(agents || [], calls || []);
  svCalls(calls || [], agents || [], queues || []);
  sv.fetched = Date.now();
  sv.node.querySelector(".sv-updated").textContent = `Updated ${new Date(sv.fetched).toLocaleTimeString()}`;
}

function svPoll() {
  clearTimeout(sv.timer);
  sv.timer = setTimeout(async () => {
    try { await svRefresh(); } catch (e) { if (sv.node) sv.node.querySelector(".sv-error").textContent = e.message; }
    if (sv.node) svPoll();
  }, 2000);
}

desk.onSupervise(async () => {
  sv.node = svBuild();
  desk.show(sv.node);
  await svRefresh();
  svPoll();
});

desk.onEnd(() => {
  clearTimeout(sv.timer);
  if (sv.node) sv.node.remove();
  sv.node = null;
});
