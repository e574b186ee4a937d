// Chat attachments in headless Chromium, against a running switch:
//   node attachments.mjs BASE_URL SCREENSHOT_DIR
// The switch must have agent 1001 ("Dana Agent", password pass1001) in queue 8000. The
// customer attaches a PDF, the agent sees it and downloads it (same bytes); the agent
// attaches a PNG, the customer sees it and downloads it; a file holding a card number is
// refused on both sides with the reason shown and nothing in the transcript; a type that
// is not allowed is refused. Prints {"ok":true,"chat":ID}.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node attachments.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 10_000;
const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };

const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
// A 2x2 PNG.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001049444154789c63f8cfc000440c100a001fee03fd8b5f14d40000000049454e44ae426082",
  "hex",
);
const CARD = Buffer.from("Order 5521\nPlease charge my card 4111 1111 1111 1111, expiry 12/29.\n");

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`${what}: no ${JSON.stringify(text)} (have ${JSON.stringify(await locator.allInnerTexts())})`);
  }
}

// Picks `file` through the page's "Attach file" button (in `scope`).
async function attach(page, scope, file) {
  const [chooser] = await Promise.all([
    page.waitForEvent("filechooser", { timeout: TIMEOUT }),
    scope.getByRole("button", { name: "Attach file", exact: true }).click(),
  ]);
  await chooser.setFiles(file);
}

// Clicks the file's link in `transcript` and returns the downloaded bytes and name.
async function download(page, transcript, name) {
  const link = transcript.locator("a.file-link", { hasText: name });
  await link.waitFor({ timeout: TIMEOUT });
  const [dl] = await Promise.all([page.waitForEvent("download", { timeout: TIMEOUT }), link.click()]);
  const failure = await dl.failure();
  if (failure) fail(`download of ${name} failed: ${failure}`);
  return { bytes: readFileSync(await dl.path()), name: dl.suggestedFilename() };
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    step("agent logs in and goes Ready");
    const desk = await (await browser.newContext({ viewport: { width: 1280, height: 820 }, acceptDownloads: true })).newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await desk.locator("#state-label").filter({ hasText: /^Ready$/ }).waitFor({ timeout: TIMEOUT });

    step("customer starts a chat; agent accepts");
    const cust = await (await browser.newContext({ viewport: { width: 900, height: 760 }, acceptDownloads: true })).newPage();
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
    const deskLog = pane.locator(".transcript");
    const custLog = cust.locator("#transcript");
    await cust.getByLabel("Message").fill("Hello, here is my invoice.");
    await cust.getByRole("button", { name: "Send", exact: true }).click();
    await expectText(deskLog.locator(".entry"), "here is my invoice", "agent sees the customer's text");

    step("customer attaches a PDF (held back a moment: the page says it is sending)");
    let release;
    const held = new Promise((r) => { release = r; });
    await cust.route("**/attachments?name=*", async (route) => { await held; await route.continue(); });
    await attach(cust, cust, { name: "invoice.pdf", mimeType: "application/pdf", buffer: PDF });
    await expectText(cust.locator("#upload-status"), "Sending invoice.pdf", "the sending state");
    if (!(await cust.getByRole("button", { name: "Attach file", exact: true }).isDisabled())) fail("Attach file stays enabled while sending");
    await cust.screenshot({ path: join(shots, "customer-sending.png"), fullPage: true });
    release();

    step("both sides see the PDF; the agent downloads it");
    await expectText(custLog.locator('.entry[data-sender="Alice Customer"] .file'), "invoice.pdf", "customer sees their file");
    await cust.unroute("**/attachments?name=*");
    const seen = deskLog.locator('.entry[data-sender="Alice Customer"] .file');
    await expectText(seen, "invoice.pdf", "agent sees the customer's file");
    await expectText(seen, "application/pdf", "the file's type is shown");
    const got = await download(desk, deskLog, "invoice.pdf");
    if (!got.bytes.equals(PDF)) fail(`the agent downloaded ${got.bytes.length} bytes, not the PDF's ${PDF.length}`);
    if (got.name !== "invoice.pdf") fail(`downloaded as ${got.name}`);
    await cust.locator("#upload-status").filter({ hasText: /^$/ }).waitFor({ state: "attached", timeout: TIMEOUT }).catch(() => fail("the sending state stayed"));

    step("agent attaches a PNG; the customer sees and downloads it");
    await attach(desk, pane, { name: "steps to follow.png", mimeType: "image/png", buffer: PNG });
    await expectText(deskLog.locator('.entry[data-sender="Dana Agent"] .file'), "steps to follow.png", "agent sees their file");
    await expectText(custLog.locator('.entry[data-sender="Dana Agent"] .file'), "steps to follow.png", "customer sees the agent's file");
    const back = await download(cust, custLog, "steps to follow.png");
    if (!back.bytes.equals(PNG)) fail(`the customer downloaded ${back.bytes.length} bytes, not the PNG's ${PNG.length}`);
    if (back.name !== "steps to follow.png") fail(`downloaded as ${back.name}`);

    step("a file with a card number is refused on both sides");
    await attach(cust, cust, { name: "order.txt", mimeType: "text/plain", buffer: CARD });
    await expectText(cust.locator("#send-error"), "order.txt: the file holds a card number", "customer sees the refusal");
    await cust.screenshot({ path: join(shots, "customer-card-refused.png"), fullPage: true });
    await attach(desk, pane, { name: "order.txt", mimeType: "text/plain", buffer: CARD });
    await expectText(pane.locator(".composer-error"), "order.txt: the file holds a card number", "agent sees the refusal");
    await desk.screenshot({ path: join(shots, "desktop-card-refused.png"), fullPage: true });

    step("a type that is not allowed is refused");
    await attach(cust, cust, { name: "tool.exe", mimeType: "application/octet-stream", buffer: Buffer.from("MZ\x90\x00\x03") });
    await expectText(cust.locator("#send-error"), "tool.exe: files of type \"exe\" may not be sent", "customer sees the type refusal");
    await attach(desk, pane, { name: "fake.pdf", mimeType: "application/pdf", buffer: PNG });
    await expectText(pane.locator(".composer-error"), "fake.pdf: the file's content is not a pdf file", "agent sees the content refusal");

    step("nothing of the refused files is in either transcript");
    for (const [who, log] of [["customer", custLog], ["agent", deskLog]]) {
      const files = await log.locator("a.file-link").allInnerTexts();
      if (JSON.stringify(files) !== JSON.stringify(["invoice.pdf", "steps to follow.png"])) {
        fail(`the ${who}'s transcript has files ${JSON.stringify(files)}`);
      }
      const text = await log.innerText();
      if (text.includes("order.txt") || text.includes("4111") || text.includes("tool.exe")) fail(`the ${who}'s transcript shows a refused file`);
    }
    await cust.locator("#send-error").evaluate((e) => { e.textContent = ""; });
    await pane.locator(".composer-error").evaluate((e) => { e.textContent = ""; });
    await desk.screenshot({ path: join(shots, "desktop-files.png"), fullPage: true });
    await cust.screenshot({ path: join(shots, "customer-files.png"), fullPage: true });

    step("the desktop, reloaded, shows the files again (from the stored transcript)");
    await desk.reload();
    const again = desk.getByRole("article", { name: "Chat with Alice Customer" });
    await again.waitFor({ timeout: TIMEOUT });
    await expectText(again.locator(".transcript a.file-link"), "invoice.pdf", "the reloaded pane");
    await expectText(again.locator(".transcript a.file-link"), "steps to follow.png", "the reloaded pane");

    step("the agent ends the chat; the customer still downloads, no longer attaches");
    await again.getByRole("button", { name: "End", exact: true }).click();
    await expectText(cust.locator("#status"), "Chat ended", "the customer is told");
    if (!(await cust.getByRole("button", { name: "Attach file", exact: true }).isDisabled())) fail("Attach file enabled after the end");
    const late = await download(cust, custLog, "invoice.pdf");
    if (!late.bytes.equals(PDF)) fail("the customer's download after the end differs");
    await cust.screenshot({ path: join(shots, "customer-ended.png"), fullPage: true });
    console.log(JSON.stringify({ ok: true, chat: id }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
});
