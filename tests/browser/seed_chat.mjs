// The seed "Call Center Chat test case" in headless Chromium, against a running switch:
//   node seed_chat.mjs BASE_URL SCREENSHOT_DIR
// The switch must have agent 1001 ("Dana Agent", password pass1001) in queue 8000 with
// chat capacity, manual wrap-up with codes "Sale" and "Complaint", and a short offer
// timeout. Prints one JSON line {"ok":true,"chats":[ids...]} at the end; exits non-zero
// with the failing step on stderr otherwise.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node seed_chat.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const AGENT = "Dana Agent";
const CARD = "4111 1111 1111 1111";
const MASKED = "**** **** **** 1111";
const TIMEOUT = 10_000;

let current = "start";
const step = (name) => {
  current = name;
  console.error(`step: ${name}`);
};
const fail = (message) => {
  throw new Error(message);
};

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`${what}: no ${JSON.stringify(text)} (have ${JSON.stringify(await locator.allInnerTexts())})`);
  }
}

async function expectState(desk, label) {
  try {
    await desk.locator(`#state-label`).filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`agent state should be ${label}, is ${await desk.locator("#state-label").innerText()}`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/// A customer opens /chat/, gives name and DN, presses Chat; returns the page and chat id.
async function customer(browser, name) {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 } });
  const page = await context.newPage();
  await page.goto(`${base}/chat/`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("ACD DN").fill("8000");
  await page.getByRole("button", { name: "Chat", exact: true }).click();
  await page.locator("#conversation[data-interaction]").waitFor({ timeout: TIMEOUT });
  const id = Number(await page.locator("#conversation").getAttribute("data-interaction"));
  return { page, id };
}

async function acceptOffer(desk, customerName) {
  const offer = desk.getByRole("dialog", { name: "Incoming chat" });
  await offer.waitFor({ timeout: TIMEOUT });
  await expectText(offer, customerName, "offer pop-up customer");
  await expectText(offer, "8000", "offer pop-up queue");
  await desk.getByRole("button", { name: "Accept", exact: true }).click();
  await offer.waitFor({ state: "hidden", timeout: TIMEOUT });
  return desk.getByRole("article", { name: `Chat with ${customerName}` });
}

async function wrapUp(desk, codes) {
  const dialog = desk.getByRole("dialog", { name: "Wrap-up" });
  await dialog.waitFor({ timeout: TIMEOUT });
  for (const code of codes) await dialog.getByLabel(code, { exact: true }).check();
  return dialog;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const chats = [];
  try {
    step("agent logs in");
    const deskContext = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    const desk = await deskContext.newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/`);
    if (!desk.url().endsWith("/desktop/")) fail(`/ should lead to /desktop/, got ${desk.url()}`);
    await desk.getByLabel("User ID").waitFor({ timeout: TIMEOUT });
    await shot(desk, "desktop-login");
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");

    step("agent goes Ready");
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(desk, "Ready");
    await shot(desk, "desktop-ready");

    step("customer opens the chat page and presses Chat");
    const first = await customer(browser, "Alice Customer");
    chats.push(first.id);
    const c1 = first.page;
    c1.on("pageerror", (e) => console.error(`chat page error: ${e.message}`));

    step("agent gets the pop-up and accepts; state Busy");
    await desk.getByRole("dialog", { name: "Incoming chat" }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "desktop-offer");
    const pane = await acceptOffer(desk, "Alice Customer");
    await expectState(desk, "Busy");
    await expectText(c1.locator("#status"), `chatting with ${AGENT}`, "customer sees the agent join");
    await expectText(c1.locator(".entry.role-system"), `${AGENT} joined the chat`, "join notice");

    step("customer writes (Enter); agent sees the customer's name");
    await c1.getByLabel("Message").fill("Hello, I need help with my order.");
    await c1.getByLabel("Message").press("Enter");
    await expectText(pane.locator('.entry[data-sender="Alice Customer"]'), "Hello, I need help", "agent sees the customer's line");

    step("agent answers (Send); customer sees the agent's name");
    await pane.getByLabel("Message").fill("Hi Alice, I am Dana. What is your order number?");
    await pane.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(c1.locator(`.entry[data-sender="${AGENT}"]`), "What is your order number?", "customer sees the agent's line");
    const times = await c1.locator(".entry").evaluateAll((es) => es.map((e) => e.dataset.time));
    if (times.some((t) => !t || Number.isNaN(Date.parse(t)))) fail(`entries without data-time: ${times}`);

    step("a card number is masked on both sides");
    await c1.getByLabel("Message").fill(`My card is ${CARD} thanks`);
    await c1.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(pane.locator('.entry[data-sender="Alice Customer"]'), `My card is ${MASKED}`, "agent sees the masked card");
    await expectText(c1.locator('.entry[data-sender="Alice Customer"]'), `My card is ${MASKED}`, "customer sees the masked card");
    for (const p of [desk, c1]) {
      if ((await p.content()).includes(CARD)) fail("the card number is shown unmasked");
    }

    step("1,001 characters are refused on both sides");
    const long = "x".repeat(1001);
    const before = await pane.locator(".entry").count();
    await pane.getByLabel("Message").fill(long);
    await pane.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(pane.getByRole("alert"), "at most 1000 characters", "agent's refusal");
    await c1.getByLabel("Message").fill(long);
    await c1.getByLabel("Message").press("Enter");
    await expectText(c1.getByRole("alert"), "at most 1000 characters", "customer's refusal");
    await desk.waitForTimeout(300);
    if ((await pane.locator(".entry").count()) !== before) fail("a refused message reached the transcript");
    await pane.getByLabel("Message").fill("");
    await c1.getByLabel("Message").fill("");
    await shot(desk, "desktop-chat");
    await shot(c1, "customer-chat");

    step("customer disconnects; agent in After-Call Work; wrap-up; Ready");
    await c1.getByRole("button", { name: "Disconnect", exact: true }).click();
    await expectText(pane.locator(".entry.role-system"), "Alice Customer left the chat", "agent sees the customer leave");
    await expectState(desk, "After-Call Work");
    const dialog = await wrapUp(desk, ["Sale", "Complaint"]);
    await shot(desk, "desktop-wrap-up");
    await dialog.getByRole("button", { name: "Submit wrap-up", exact: true }).click();
    await dialog.waitFor({ state: "hidden", timeout: TIMEOUT });
    await expectState(desk, "Ready");
    await shot(c1, "customer-ended");

    step("a second chat: offered, accepted, ended by the agent, wrapped up");
    const second = await customer(browser, "Bob Second");
    chats.push(second.id);
    const pane2 = await acceptOffer(desk, "Bob Second");
    await expectState(desk, "Busy");
    await second.page.getByLabel("Message").fill("Second customer here");
    await second.page.getByLabel("Message").press("Enter");
    await expectText(pane2.locator('.entry[data-sender="Bob Second"]'), "Second customer here", "second chat line");
    step("the desktop reloads mid-chat and shows the chat again");
    await desk.reload();
    await expectState(desk, "Busy");
    await expectText(pane2.locator('.entry[data-sender="Bob Second"]'), "Second customer here", "the chat after a reload");
    await pane2.getByRole("button", { name: "End", exact: true }).click();
    await expectText(second.page.locator("#status"), "Chat ended", "customer told the chat ended");
    await expectState(desk, "After-Call Work");
    const dialog2 = await wrapUp(desk, ["Sale"]);
    await dialog2.getByRole("button", { name: "Submit wrap-up", exact: true }).click();
    await expectState(desk, "Ready");

    step("RONA: an offer not accepted in time");
    const third = await customer(browser, "Carol Rona");
    chats.push(third.id);
    await desk.getByRole("dialog", { name: "Incoming chat" }).waitFor({ timeout: TIMEOUT });
    await expectState(desk, "RONA");
    await desk.getByRole("dialog", { name: "Incoming chat" }).waitFor({ state: "hidden", timeout: TIMEOUT });
    const rona = desk.getByRole("alert", { name: "Missed offer" });
    await rona.waitFor({ timeout: TIMEOUT });
    await shot(desk, "desktop-rona");
    await expectText(third.page.locator("#status"), "Waiting for an agent", "the RONA'd customer still waits");
    await shot(third.page, "customer-waiting");
    step("RONA: the agent chooses Not Ready, then Ready and takes the chat");
    await rona.getByRole("button", { name: "Not Ready", exact: true }).click();
    await expectState(desk, "Not Ready");
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await acceptOffer(desk, "Carol Rona");
    await expectState(desk, "Busy");
    await third.page.getByRole("button", { name: "Disconnect", exact: true }).click();
    const dialog3 = await wrapUp(desk, ["Complaint"]);
    await dialog3.getByRole("button", { name: "Submit wrap-up", exact: true }).click();
    await expectState(desk, "Ready");
    await shot(desk, "desktop-end");

    step("unknown ACD DN");
    const ctx = await browser.newContext();
    const bad = await ctx.newPage();
    await bad.goto(`${base}/chat/`);
    await bad.getByLabel("Name").fill("Dave");
    await bad.getByLabel("ACD DN").fill("7777");
    await bad.getByRole("button", { name: "Chat", exact: true }).click();
    await expectText(bad.getByRole("alert"), "no ACD DN", "unknown DN refused");
    await shot(bad, "customer-unknown-dn");
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
