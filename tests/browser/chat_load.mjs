// Web chat load: N customers over the real WebSocket protocol (/api/chat/ws), agents
// answering over the REST API and the /api/events stream; no browser. Prints chats routed
// per second, messages delivered per second, delivery latency (p50/p99) and the switch's
// RSS. Not a test: sipp-scenarios/bench/chat.sh starts the switch and runs it.
//
//   node --experimental-websocket chat_load.mjs BASE_URL SWITCH_PID AGENTS CHATS MESSAGES
//
// Agents are 4001.. with password pass4001..; each customer sends MESSAGES lines, 100 ms
// apart, once every chat is accepted; the latency is from the customer's send to the
// agent's desktop stream.
import { readFileSync } from "node:fs";

const [base, pid, agentsArg, chatsArg, messagesArg] = process.argv.slice(2);
const AGENTS = Number(agentsArg || 4);
const CHATS = Number(chatsArg || 1000);
const MESSAGES = Number(messagesArg || 5);
const ws = base.replace(/^http/, "ws");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rss() {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? `${(Number(m[1]) / 1024).toFixed(1)} MiB` : "?";
  } catch (_) {
    return "?";
  }
}

async function agent(id) {
  const r = await fetch(`${base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: id, password: `pass${id}` }),
  });
  if (!r.ok) throw new Error(`login ${id}: ${r.status}`);
  const cookie = (r.headers.get("set-cookie") || "").split(";")[0];
  const { csrf_token } = await r.json();
  const post = (path, body) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf_token, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const stream = new WebSocket(`${ws}/api/events?agent=${id}`, { headers: { cookie } });
  await new Promise((ok, fail) => {
    stream.onmessage = (e) => JSON.parse(e.data).type === "snapshot" && ok();
    stream.onerror = () => fail(new Error(`events ${id}`));
  });
  const lr = await post(`/api/agents/${id}/login`, { state: "ready" });
  if (!lr.ok) await post(`/api/agents/${id}/state`, { state: "ready" });
  return { id, post, stream };
}

const latencies = [];
let delivered = 0;
let accepted = 0;
let failures = 0;
let firstJoin = 0;
let lastAccept = 0;

async function main() {
  const agents = [];
  for (let i = 1; i <= AGENTS; i++) agents.push(await agent(String(4000 + i)));
  for (const a of agents) {
    a.stream.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      if (ev.type === "chat_offer" && ev.agent === a.id) {
        a.post(`/api/chats/${ev.interaction}/accept`).then((r) => {
          if (r.ok) {
            accepted++;
            lastAccept = performance.now();
          } else {
            failures++;
          }
        }).catch(() => { failures++; });
      } else if (ev.type === "chat_message" && ev.message.role === "customer") {
        const sent = Number(ev.message.text.split(" ")[1]);
        if (sent) {
          latencies.push(performance.now() - sent);
          delivered++;
        }
      }
    };
  }
  const customers = [];
  firstJoin = performance.now();
  for (let i = 0; i < CHATS; i++) {
    const s = new WebSocket(`${ws}/api/chat/ws`);
    customers.push(s);
    s.onopen = () => s.send(JSON.stringify({ type: "join", name: `Load ${i}`, dn: "8000" }));
    if (i % 100 === 99) await sleep(10);
  }
  const deadline = performance.now() + 60_000;
  while (accepted < CHATS && performance.now() < deadline) await sleep(50);
  const routeSecs = (lastAccept - firstJoin) / 1000;
  if (failures) console.log(`accepts that failed: ${failures}`);
  console.log(`chats accepted: ${accepted}/${CHATS} in ${routeSecs.toFixed(2)} s: ${(accepted / routeSecs).toFixed(0)} chats/s routed; RSS ${rss()}`);
  const t0 = performance.now();
  for (let m = 0; m < MESSAGES; m++) {
    for (const s of customers) {
      if (s.readyState === WebSocket.OPEN) s.send(JSON.stringify({ type: "message", text: `m ${performance.now()}` }));
    }
    await sleep(100);
  }
  const want = accepted * MESSAGES;
  const end = performance.now() + 60_000;
  while (delivered < want && performance.now() < end) await sleep(50);
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1) : "?");
  console.log(`messages delivered: ${delivered}/${want} in ${secs.toFixed(2)} s: ${(delivered / secs).toFixed(0)} messages/s; latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; RSS ${rss()} with ${CHATS} chats open`);
  for (const s of customers) s.close();
  for (const a of agents) a.stream.close();
  process.exit(delivered === want && accepted === CHATS ? 0 : 1);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
