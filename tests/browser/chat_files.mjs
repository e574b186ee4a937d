// Predefined responses in headless Chromium, against a running switch:
//   node chat_files.mjs BASE_URL SCREENSHOT_DIR
// The switch must have agent 1001 ("Dana Agent", password pass1001) in queue 8000 and a
// template titled "Greeting" ("Hello {customer}, I am {agent}. How can I help?") besides
// one titled "Refunds". The agent searches the templates, picks "Greeting", edits the
// text and sends it; the customer sees the edited text. Prints {"ok":true,"chat":ID}.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node chat_files.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 10_000;
const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`${what}: no ${JSON.stringify(text)} (have ${JSON.stringify(await locator.allInnerTexts())})`);
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    step("agent logs in and goes Ready");
    const desk = await (await browser.newContext({ viewport: { width: 1280, height: 820 } })).newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await desk.locator("#state-label").filter({ hasText: /^Ready$/ }).waitFor({ timeout: TIMEOUT });

    step("customer starts a chat; agent accepts");
    const cust = await (await browser.newContext({ viewport: { width: 900, height: 760 } })).newPage();
    cust.on("pageerror", (e) => console.error(`chat page error: ${e.message}`));
    await cust.goto(`${base}/chat/`);
    await cust.getByLabel("Name").fill("Alice Customer");
    await cust.getByLabel("ACD DN").fill("8000");
    await cust.getByRole("button", { name: "Chat", exact: true }).click();
    await cust.locator("#conversation[data-interaction]").waitFor({ timeout: TIMEOUT });
    const id = Number(await cust.locator("#conversation").getAttribute("data-interaction"));
    await desk.getByRole("dialog", { name: "Incoming chat" }).waitFor({ timeout: TIMEOUT });
    await desk.getByRole("button", { name: "Accept", exact: true }).click();
    const pane = desk.getByRole("article", { name: "Chat with Alice Customer" });
    await pane.waitFor({ timeout: TIMEOUT });

    step("agent searches the templates and picks one");
    await pane.getByRole("button", { name: "Templates", exact: true }).click();
    const picker = pane.getByRole("dialog", { name: "Templates" });
    await picker.waitFor({ timeout: TIMEOUT });
    await expectText(picker.locator(".template-item"), "Refunds", "all templates listed");
    await picker.getByLabel("Search templates").fill("how can");
    await picker.locator(".template-item").filter({ hasText: "Refunds" }).waitFor({ state: "detached", timeout: TIMEOUT });
    await expectText(picker.locator(".template-item"), "Hello Alice Customer, I am Dana Agent.", "filled placeholders");
    await desk.screenshot({ path: join(shots, "desktop-templates.png"), fullPage: true });
    await picker.locator(".template-item").filter({ hasText: "Greeting" }).click();
    const box = pane.getByLabel("Message");
    const filled = await box.inputValue();
    if (filled !== "Hello Alice Customer, I am Dana Agent. How can I help?") fail(`box holds ${JSON.stringify(filled)}`);

    step("agent edits the text and sends it; the customer sees the edited text");
    await box.fill(filled.replace("How can I help?", "What can I do for your order?"));
    await pane.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(cust.locator('.entry[data-sender="Dana Agent"]'), "I am Dana Agent. What can I do for your order?", "customer sees the edited template");
    await desk.screenshot({ path: join(shots, "desktop-template-sent.png"), fullPage: true });
    await cust.screenshot({ path: join(shots, "customer-template.png"), fullPage: true });
    console.log(JSON.stringify({ ok: true, chat: id }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
});
