// Chat transfer and three-way conference with the seeds' role rules, in headless Chromium
// against a running switch, with three pages: customers, agent 1 (Dana, 1001, queue 8000
// Sales which requires its wrap-up) and agent 2 (Eli, 1002, queue 8001 Support):
//   node chat_collab.mjs BASE_URL SCREENSHOT_DIR
// Prints one JSON line {"ok":true,"chats":[transferred, queue_transferred, conference]}.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node chat_collab.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 10_000;
let current = "start";
const step = (name) => { current = name; console.error(`step: ${name}`); };
const fail = (message) => { throw new Error(message); };

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`${what}: no ${JSON.stringify(text)} (have ${JSON.stringify(await locator.allInnerTexts())})`);
  }
}

async function expectState(desk, label) {
  try {
    await desk.locator("#state-label").filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`agent state should be ${label}, is ${await desk.locator("#state-label").innerText()}`);
  }
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function agent(browser, user) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  const desk = await ctx.newPage();
  desk.on("pageerror", (e) => console.error(`desktop ${user} page error: ${e.message}`));
  await desk.goto(`${base}/desktop/`);
  await desk.getByLabel("User ID").fill(user);
  await desk.getByLabel("Password").fill(`pass${user}`);
  await desk.getByRole("button", { name: "Login", exact: true }).click();
  await expectState(desk, "Not Ready");
  await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
  await expectState(desk, "Ready");
  return desk;
}

async function customer(browser, name) {
  const ctx = await browser.newContext({ viewport: { width: 900, height: 760 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error(`chat page error: ${e.message}`));
  await page.goto(`${base}/chat/`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("ACD DN").fill("8000");
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  await page.locator("#conversation[data-interaction]").waitFor({ timeout: TIMEOUT });
  const id = Number(await page.locator("#conversation").getAttribute("data-interaction"));
  return { page, id };
}

async function say(page, text) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

async function accept(desk, title, customerName) {
  const offer = desk.getByRole("dialog", { name: title });
  await offer.waitFor({ timeout: TIMEOUT });
  await expectText(offer, customerName, `${title} pop-up customer`);
  await desk.getByRole("button", { name: "Accept", exact: true }).click();
  await offer.waitFor({ state: "hidden", timeout: TIMEOUT });
  return desk.getByRole("article", { name: `Chat with ${customerName}` });
}

async function collab(pane, desk, kind, to, value) {
  await pane.getByRole("button", { name: kind === "transfer" ? "Transfer" : "Conference", exact: true }).click();
  const dialog = desk.getByRole("dialog", { name: kind === "transfer" ? "Transfer chat" : "Conference" });
  await dialog.waitFor({ timeout: TIMEOUT });
  if (to === "queue") await dialog.getByLabel("A queue").check();
  await dialog.getByLabel(to === "queue" ? "Queue" : "Agent", { exact: true }).selectOption(value);
  await shot(desk, `desktop1-${kind}-dialog`);
  await dialog.getByRole("button", { name: kind === "transfer" ? "Transfer" : "Invite", exact: true }).click();
  await dialog.waitFor({ state: "hidden", timeout: TIMEOUT });
}

async function wrapUp(desk, codes) {
  const dialog = desk.getByRole("dialog", { name: "Wrap-up" });
  await dialog.waitFor({ timeout: TIMEOUT });
  for (const code of codes) await dialog.getByLabel(code, { exact: true }).check();
  await dialog.getByRole("button", { name: "Submit wrap-up", exact: true }).click();
  await dialog.waitFor({ state: "hidden", timeout: TIMEOUT });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const chats = [];
  try {
    step("both agents log in and go Ready");
    const dana = await agent(browser, "1001");
    const eli = await agent(browser, "1002");

    step("a customer's chat is taken by agent 1");
    const a = await customer(browser, "Alice Customer");
    chats.push(a.id);
    let pane1 = await accept(dana, "Incoming chat", "Alice Customer");
    await say(a.page, "Hello, my parcel is lost");
    await expectText(pane1.locator('.entry[data-sender="Alice Customer"]'), "my parcel is lost", "agent 1 sees the line");

    step("transfer to agent 2, declined: it comes back to agent 1 with the reason");
    await collab(pane1, dana, "transfer", "agent", "1002");
    await eli.getByRole("dialog", { name: "Chat transfer from Dana Agent" }).waitFor({ timeout: TIMEOUT });
    await shot(eli, "desktop2-transfer-offer");
    await eli.getByRole("button", { name: "Decline", exact: true }).click();
    await expectText(pane1.locator(".chat-notice"), "Transfer failed: Eli Agent declined", "agent 1 told why");
    await expectState(dana, "Busy");
    await shot(dana, "desktop1-transfer-declined");
    await expectState(eli, "RONA");
    await eli.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(eli, "Ready");

    step("transfer to agent 2, accepted: the whole transcript moves, agent 1 wraps up");
    await collab(pane1, dana, "transfer", "agent", "1002");
    const pane2 = await accept(eli, "Chat transfer from Dana Agent", "Alice Customer");
    await expectText(pane2.locator('.entry[data-sender="Alice Customer"]'), "my parcel is lost", "agent 2 sees the earlier transcript");
    await expectText(pane2.locator(".entry.role-system"), "Dana Agent transferred the chat to Eli Agent", "transfer line");
    await expectText(a.page.locator("#status"), "chatting with Eli Agent", "the customer sees the new agent's name");
    await expectState(eli, "Busy");
    await expectState(dana, "After-Call Work");
    step("Ready is refused before the required wrap-up");
    await dana.evaluate(() => goReady());
    await expectText(dana.locator("#state-error"), "must submit the wrap-up first", "Ready refused");
    await expectState(dana, "After-Call Work");
    await shot(dana, "desktop1-ready-refused");
    await wrapUp(dana, ["Sale"]);
    await expectState(dana, "Ready");
    await pane2.getByLabel("Message").fill("Eli here, I found it");
    await pane2.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(a.page.locator('.entry[data-sender="Eli Agent"]'), "I found it", "customer sees agent 2");
    await shot(a.page, "customer-transferred");
    await pane2.getByRole("button", { name: "End", exact: true }).click();
    await wrapUp(eli, ["Sale"]);
    await expectState(eli, "Ready");

    step("transfer to a queue: re-queued, taken by agent 2 from Support");
    const b = await customer(browser, "Bob Customer");
    chats.push(b.id);
    pane1 = await accept(dana, "Incoming chat", "Bob Customer");
    await say(b.page, "Need technical help");
    await expectText(pane1.locator('.entry[data-sender="Bob Customer"]'), "technical help", "agent 1 sees Bob");
    await collab(pane1, dana, "transfer", "queue", "8001");
    await expectText(b.page.locator(".entry"), "You are being transferred", "the customer is told");
    await wrapUp(dana, ["No sale"]);
    const pane2b = await accept(eli, "Incoming chat", "Bob Customer");
    await expectText(pane2b.locator('.entry[data-sender="Bob Customer"]'), "technical help", "agent 2 sees the transcript");
    await b.page.getByRole("button", { name: "Disconnect", exact: true }).click();
    await wrapUp(eli, ["Fixed"]);
    await expectState(eli, "Ready");
    await expectState(dana, "Ready");

    step("conference: agent 2 joins as a guest, writes, leaves; the chat goes on");
    const c = await customer(browser, "Carol Customer");
    chats.push(c.id);
    pane1 = await accept(dana, "Incoming chat", "Carol Customer");
    await collab(pane1, dana, "conference", "agent", "1002");
    const guest = await accept(eli, "Conference invitation from Dana Agent", "Carol Customer");
    await expectText(guest.locator(".badge"), "Conference guest", "guest badge");
    if (await guest.getByRole("button", { name: "End", exact: true }).isVisible()) fail("the guest has an End button");
    await expectText(c.page.locator(".entry.role-system"), "Eli Agent joined the chat", "customer sees the guest join");
    await guest.getByLabel("Message").fill("Eli from billing joins");
    await guest.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(c.page.locator('.entry[data-sender="Eli Agent"]'), "billing joins", "customer sees the guest");
    await expectText(pane1.locator('.entry[data-sender="Eli Agent"]'), "billing joins", "agent 1 sees the guest");
    await say(c.page, "Thanks both");
    await expectText(guest.locator('.entry[data-sender="Carol Customer"]'), "Thanks both", "guest sees the customer");
    await shot(eli, "desktop2-conference-guest");
    await shot(dana, "desktop1-conference");
    await shot(c.page, "customer-conference");
    await guest.getByRole("button", { name: "Leave", exact: true }).click();
    await expectText(c.page.locator(".entry.role-system"), "Eli Agent left the chat", "customer sees the guest leave");
    await expectState(eli, "Ready");
    if (await eli.getByRole("dialog", { name: "Wrap-up" }).isVisible()) fail("the guest got a wrap-up");
    await pane1.getByLabel("Message").fill("Still with you");
    await pane1.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(c.page.locator('.entry[data-sender="Dana Agent"]'), "Still with you", "the chat goes on");

    step("conference again: the customer leaves, it ends for both; only agent 1 wraps up");
    await collab(pane1, dana, "conference", "agent", "1002");
    const guest2 = await accept(eli, "Conference invitation from Dana Agent", "Carol Customer");
    await c.page.getByRole("button", { name: "Disconnect", exact: true }).click();
    await expectText(guest2.locator(".chat-notice"), "The chat has ended", "guest told");
    await expectState(dana, "After-Call Work");
    await expectState(eli, "Ready");
    await shot(eli, "desktop2-conference-ended");
    await wrapUp(dana, ["Sale"]);
    await expectState(dana, "Ready");
    await shot(dana, "desktop1-end");
    step("done");
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ ok: true, chats }));
}

main().catch((e) => {
  console.error(`FAILED at step "${current}": ${e.message}`);
  process.exit(1);
});
