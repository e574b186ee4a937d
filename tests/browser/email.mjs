// The e-mail channel in the agent desktop, in headless Chromium:
//   node email.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_email.rs, which starts Dovecot (IMAP_PORT, IMAP_USER,
// IMAP_PASSWORD: the support@ mailbox feeding queue 8100) and aiosmtpd (its Maildir in
// RELAY_MAILDIR). Agent 1001 (pass1001) logs in and goes Ready; this script delivers the
// customer's mails (IMAP APPEND) and works them: the pop-up, Accept, the mail, a quick
// reply that reaches the relay, the wrap-up; the customer's answer offered into the same
// thread, Show / Hide earlier messages, View original; a draft kept across a reload; a
// standard reply (template, bold, bulleted list, Cc, a file; a refused file's 422 shown
// first); contact history; a transfer to the other e-mail queue. Prints one JSON line
// {"ok":true,...} at the end; exits non-zero otherwise.
import { chromium } from "playwright-core";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import net from "node:net";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node email.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 15_000;
const MAIL_TIMEOUT = 30_000;
const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// IMAP APPEND into the support@ INBOX, as a delivery agent would.
function deliver(raw) {
  const data = raw.replace(/\r?\n/g, "\r\n");
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(process.env.IMAP_PORT), "127.0.0.1");
    let buf = "";
    let stage = 0;
    s.setTimeout(10_000, () => { s.destroy(); reject(new Error(`IMAP timed out: ${buf}`)); });
    s.on("error", reject);
    s.on("data", (d) => {
      buf += d.toString();
      if (stage === 0 && buf.includes("* OK")) {
        stage = 1;
        s.write(`a1 LOGIN "${process.env.IMAP_USER}" "${process.env.IMAP_PASSWORD}"\r\n`);
      } else if (stage === 1 && /a1 (OK|NO|BAD)/.test(buf)) {
        if (!buf.includes("a1 OK")) return reject(new Error(`IMAP LOGIN: ${buf}`));
        stage = 2;
        s.write(`a2 APPEND INBOX {${Buffer.byteLength(data)}}\r\n`);
      } else if (stage === 2 && /\r\n\+/.test(`\r\n${buf.split("a1 OK").pop()}`)) {
        stage = 3;
        s.write(`${data}\r\n`);
      } else if (stage === 3 && /a2 (OK|NO|BAD)/.test(buf)) {
        if (!buf.includes("a2 OK")) return reject(new Error(`IMAP APPEND: ${buf}`));
        s.end("a3 LOGOUT\r\n");
        resolve();
      }
    });
  });
}

function relayed() {
  const dir = process.env.RELAY_MAILDIR;
  const out = [];
  for (const sub of ["new", "cur"]) {
    let names = [];
    try { names = readdirSync(join(dir, sub)); } catch (_) { continue; }
    for (const n of names) out.push(readFileSync(join(dir, sub, n), "utf8"));
  }
  return out;
}

async function until(what, fn, timeout = MAIL_TIMEOUT) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(250);
  }
  fail(`timed out: ${what}`);
}

async function expectState(desk, label) {
  try {
    await desk.locator("#state-label").filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`agent state should be ${label}, is ${await desk.locator("#state-label").innerText()}`);
  }
}

const FIRST = `From: Ada Lovelace <ada@example.org>
To: support@example.com
Cc: bob@example.org
Subject: My bill
Message-ID: <a1@example.org>
Date: Mon, 7 Dec 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Hello,</p><p>I was charged <b>twice</b> for November.</p><script>alert(1)</script><p>Ada</p>
`;

const answer = (replyId) => `From: Ada Lovelace <ada@example.org>
To: support@example.com
Subject: Re: My bill
Message-ID: <a2@example.org>
In-Reply-To: ${replyId}
References: <a1@example.org> ${replyId}
Date: Mon, 7 Dec 2026 11:00:00 +0000

Thanks, but the second charge is still on my statement.
`;

const THIRD = `From: Ada Lovelace <ada@example.org>
To: support@example.com
Subject: New address
Message-ID: <a3@example.org>
Date: Mon, 7 Dec 2026 12:00:00 +0000

Please send the invoices to my new address.
`;

const FOURTH = `From: Ada Lovelace <ada@example.org>
To: support@example.com
Subject: Unsubscribe
Message-ID: <a4@example.org>
Date: Mon, 7 Dec 2026 13:00:00 +0000

Please take me off the newsletter.
`;

async function offered(desk, subject) {
  const offer = desk.getByRole("dialog", { name: "Incoming e-mail" });
  await offer.waitFor({ timeout: MAIL_TIMEOUT });
  const text = await offer.innerText();
  for (const want of ["Ada Lovelace", "ada@example.org", "Support mail", subject]) {
    if (!text.includes(want)) fail(`the offer should show ${want}: ${text}`);
  }
  const label = await desk.locator("#offer-channel").getAttribute("aria-label");
  if (label !== "E-mail") fail(`the offer's icon should be the e-mail one, is ${label}`);
  if (!(await desk.locator("#offer-channel svg rect").count())) fail("the offer should show the envelope icon");
  return offer;
}

async function wrapUp(desk, code) {
  const dialog = desk.getByRole("dialog", { name: "Wrap-up" });
  await dialog.waitFor({ timeout: TIMEOUT });
  await dialog.getByLabel(code).check();
  await dialog.getByRole("button", { name: "Submit wrap-up" }).click();
  await dialog.waitFor({ state: "hidden", timeout: TIMEOUT });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const errors = [];
  try {
    step("agent logs in and goes Ready");
    const desk = await (await browser.newContext({ viewport: { width: 1360, height: 1000 } })).newPage();
    desk.on("pageerror", (e) => { errors.push(e.message); console.error(`desktop page error: ${e.message}`); });
    desk.on("console", (m) => { if (m.type() === "error") console.error(`console: ${m.text()}`); });
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(desk, "Ready");

    step("a mail arrives: the pop-up");
    await deliver(FIRST);
    let offer = await offered(desk, "My bill");
    await shot(desk, "1-email-offer");
    await offer.getByRole("button", { name: "Accept" }).click();

    step("the mail shows in its pane");
    const pane = desk.getByRole("article", { name: "E-mail from Ada Lovelace" });
    await pane.waitFor({ timeout: TIMEOUT });
    const frame = pane.frameLocator("iframe.email-frame").first();
    await frame.locator("b", { hasText: "twice" }).waitFor({ timeout: TIMEOUT });
    const sandbox = await pane.locator("iframe.email-frame").first().getAttribute("sandbox");
    if (sandbox.includes("allow-scripts")) fail(`the mail's frame must not run scripts: ${sandbox}`);
    if ((await frame.locator("script").count()) > 0) fail("the sanitiser should have removed the script");
    const headers = await pane.locator(".email-message").first().innerText();
    for (const want of ["ada@example.org", "support@example.com", "bob@example.org"]) {
      if (!headers.includes(want)) fail(`the mail's headers should show ${want}: ${headers}`);
    }
    if (!(await desk.locator("#interaction-list").innerText()).includes("Ada Lovelace")) fail("My interactions should list the e-mail");
    await shot(desk, "2-email-thread");

    step("View original");
    const original = pane.getByRole("link", { name: "View original" }).first();
    const href = await original.getAttribute("href");
    const raw = await desk.evaluate(async (u) => { const r = await fetch(u); return `${r.headers.get("content-type")}\n${await r.text()}`; }, href);
    if (!raw.startsWith("text/plain") || !raw.includes("Message-ID: <a1@example.org>")) fail(`View original should give the raw mail: ${raw.slice(0, 300)}`);

    step("a quick reply");
    await pane.getByRole("button", { name: "Quick reply" }).click();
    const quick = pane.getByRole("form", { name: "Quick reply" });
    await quick.getByLabel("Quick reply text").fill("We refund the second charge today.");
    if ((await quick.getByLabel("To").inputValue()) !== "ada@example.org") fail("the quick reply goes to the customer");
    if (!(await quick.getByLabel("To").getAttribute("readonly") !== null)) fail("To is not editable");
    await quick.getByRole("button", { name: "Send" }).click();
    const wrap = desk.getByRole("dialog", { name: "Wrap-up" });
    await wrap.waitFor({ timeout: TIMEOUT });
    await pane.getByRole("status", { name: "Outbox: Sent" }).waitFor({ timeout: MAIL_TIMEOUT });
    await until("the relay has the quick reply", () => relayed().some((m) => m.includes("We refund the second charge today.")));
    await shot(desk, "3-email-wrapup");
    await wrapUp(desk, "Resolved");
    await pane.waitFor({ state: "detached", timeout: TIMEOUT });
    await expectState(desk, "Ready");

    step("the customer answers: offered into the same thread");
    const replyId = relayed().map((m) => (m.match(/^Message-ID:\s*(<[^>]+>)/im) || [])[1]).find(Boolean);
    if (!replyId) fail("the relayed reply has no Message-ID");
    await deliver(answer(replyId));
    offer = await offered(desk, "My bill");
    await offer.getByRole("button", { name: "Accept" }).click();
    await pane.waitFor({ timeout: TIMEOUT });
    const threadId = Number(await pane.getAttribute("data-thread"));
    const latest = await pane.locator(".email-thread .email-message").innerText();
    if (!latest.includes("still on my statement")) fail(`the newest mail should be on top: ${latest}`);
    const earlier = pane.getByRole("button", { name: /Show earlier messages/ });
    if ((await earlier.innerText()) !== "Show earlier messages (2)") fail(`two earlier messages: ${await earlier.innerText()}`);
    await earlier.click();
    const earlierList = pane.getByRole("region", { name: "Earlier messages" });
    await earlierList.getByText("We refund the second charge today.").waitFor({ timeout: TIMEOUT });
    await shot(desk, "2b-email-earlier");
    await pane.getByRole("button", { name: "Hide earlier messages" }).click();
    await earlierList.waitFor({ state: "hidden", timeout: TIMEOUT });

    step("a draft is kept when the agent leaves the editor, and back after a reload");
    await pane.getByRole("button", { name: "Reply", exact: true }).click();
    let editor = pane.getByRole("form", { name: "Reply" });
    await editor.getByRole("textbox", { name: "Message" }).click();
    await desk.keyboard.type("Draft: checking with billing");
    await editor.getByLabel("Cc").fill("boss@example.org");
    await desk.locator("#directory-search").click();
    await editor.locator(".email-draft-state").filter({ hasText: "Draft saved" }).waitFor({ timeout: TIMEOUT });
    await desk.reload();
    await pane.waitFor({ timeout: TIMEOUT });
    editor = pane.getByRole("form", { name: "Reply" });
    await editor.waitFor({ timeout: TIMEOUT });
    const restored = await editor.getByRole("textbox", { name: "Message" }).innerText();
    if (!restored.includes("Draft: checking with billing")) fail(`the draft should be back: ${restored}`);
    if ((await editor.getByLabel("Cc").inputValue()) !== "boss@example.org") fail("the draft's Cc should be back");

    step("a standard reply: template, bold, bulleted list, Cc, a file");
    for (const label of ["Heading", "Bold", "Italic", "Underline", "Strikethrough", "Text colour", "Numbered list",
      "Bulleted list", "Quote", "Table", "Link", "Indent", "Outdent"]) {
      if (!(await editor.getByRole("button", { name: label, exact: true }).isVisible())) fail(`the toolbar lacks ${label}`);
    }
    if ((await editor.getByLabel("Subject").inputValue()) !== "Re: My bill") fail("the subject is the thread's");
    if ((await editor.getByLabel("Subject").getAttribute("readonly")) === null) fail("the subject is not editable");
    const body = editor.getByRole("textbox", { name: "Message" });
    await body.click();
    await desk.keyboard.press("Control+A");
    await desk.keyboard.press("Delete");
    await editor.getByRole("button", { name: "Template" }).click();
    await editor.getByRole("button", { name: /Thanks/ }).click();
    await body.getByText("Dear Ada Lovelace,").waitFor({ timeout: TIMEOUT });
    if (!(await body.innerText()).includes("Dana Agent")) fail(`the template should sign with the agent's name: ${await body.innerText()}`);
    await body.press("Control+End");
    await desk.keyboard.press("Enter");
    await editor.getByRole("button", { name: "Bold", exact: true }).click();
    await desk.keyboard.type("The refund is on its way.");
    await editor.getByRole("button", { name: "Bold", exact: true }).click();
    await desk.keyboard.press("Enter");
    await editor.getByRole("button", { name: "Bulleted list", exact: true }).click();
    await desk.keyboard.type("Amount: 12.50 EUR");
    await desk.keyboard.press("Enter");
    await desk.keyboard.type("Expected: in 3 days");
    const html = await body.innerHTML();
    if (!/<b>The refund is on its way\.<\/b>/.test(html) || !/<ul><li>Amount/.test(html)) fail(`the editor should hold bold text and a list: ${html}`);
    await editor.getByLabel("Cc").fill("boss@example.org");
    const input = editor.locator("input[type=file]");
    // A file the server refuses (its content is not a PDF): the 422's reason is shown.
    await input.setInputFiles({ name: "fake.pdf", mimeType: "application/pdf", buffer: Buffer.from("not a pdf at all") });
    await editor.getByRole("list", { name: "Attached files" }).getByText("fake.pdf").waitFor({ timeout: TIMEOUT });
    await editor.getByRole("button", { name: "Send" }).click();
    const err = pane.locator(".email-error");
    await err.filter({ hasText: "not a pdf file" }).waitFor({ timeout: TIMEOUT });
    await editor.getByRole("button", { name: "Remove fake.pdf" }).click();
    // Two files, one of 3 MB (more than the API's usual 1 MiB body).
    await input.setInputFiles([
      { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Refund reference R-2291\n") },
      { name: "statement.csv", mimeType: "text/csv", buffer: Buffer.from("date,amount\n".repeat(262144)) },
    ]);
    const files = await editor.getByRole("list", { name: "Attached files" }).innerText();
    if (!files.includes("notes.txt") || !files.includes("24 B") || !files.includes("statement.csv") || !files.includes("3.0 MB")) {
      fail(`the chosen files and their sizes: ${files}`);
    }
    await shot(desk, "4-email-editor");
    await editor.getByRole("button", { name: "Send" }).click();
    await wrap.waitFor({ timeout: TIMEOUT });
    await until("the relay has the standard reply", () => relayed().some((m) => m.includes("notes.txt")));
    await pane.getByRole("status", { name: "Outbox: Sent" }).first().waitFor({ timeout: MAIL_TIMEOUT });
    await shot(desk, "5-email-sent-wrapup");
    await wrapUp(desk, "Refund");
    await pane.waitFor({ state: "detached", timeout: TIMEOUT });

    step("a new mail: contact history, then a transfer to the billing queue");
    await deliver(THIRD);
    offer = await offered(desk, "New address");
    await offer.getByRole("button", { name: "Accept" }).click();
    await pane.waitFor({ timeout: TIMEOUT });
    const moved = Number(await pane.getAttribute("data-thread"));
    if (moved === threadId) fail("a new subject without references is a new thread");
    const history = pane.getByRole("region", { name: "Contact history" });
    await history.getByText("My bill").waitFor({ timeout: TIMEOUT });
    await history.getByRole("button", { name: /Show the e-mail/ }).click();
    await history.getByText("The refund is on its way.").first().waitFor({ timeout: TIMEOUT }).catch(async () => {
      // The reply's HTML is in a frame; its text part is not shown separately.
      await history.frameLocator("iframe.email-frame").first().getByText("The refund is on its way.").waitFor({ timeout: TIMEOUT });
    });
    await shot(desk, "6-email-history");
    await pane.getByRole("button", { name: "Transfer" }).click();
    const box = pane.getByRole("form", { name: "Transfer to an e-mail queue" });
    const options = await box.getByLabel("E-mail queue").locator("option").allInnerTexts();
    if (options.length !== 1 || options[0] !== "Billing mail (8101)") fail(`only the other e-mail queue: ${options}`);
    await shot(desk, "6b-email-transfer");
    await box.getByRole("button", { name: "Transfer" }).click();
    await wrap.waitFor({ timeout: TIMEOUT });
    if (!(await pane.locator(".email-notice").innerText()).includes("transferred")) fail("the pane should say it was transferred");
    await wrapUp(desk, "Resolved");
    await pane.waitFor({ state: "detached", timeout: TIMEOUT });
    await shot(desk, "7-email-after-transfer");

    step("a mail declined (RONA, back to its queue), offered again, then ended without a reply");
    await deliver(FOURTH);
    offer = await offered(desk, "Unsubscribe");
    await offer.getByRole("button", { name: "Decline" }).click();
    await offer.waitFor({ state: "hidden", timeout: TIMEOUT });
    await expectState(desk, "RONA");
    await desk.locator("#rona-ready").click();
    offer = await offered(desk, "Unsubscribe");
    await offer.getByRole("button", { name: "Accept" }).click();
    await pane.waitFor({ timeout: TIMEOUT });
    // The rest of the toolbar, then Discard.
    await pane.getByRole("button", { name: "Reply all" }).click();
    editor = pane.getByRole("form", { name: "Reply all" });
    const box2 = editor.getByRole("textbox", { name: "Message" });
    await box2.click();
    const tool = (name) => editor.getByRole("button", { name, exact: true }).click();
    await tool("Heading");
    await desk.keyboard.type("Title");
    // Enter ends the heading (the next line is plain text again).
    await desk.keyboard.press("Enter");
    await tool("Italic");
    await desk.keyboard.type("slanted ");
    await tool("Italic");
    await tool("Underline");
    await desk.keyboard.type("under ");
    await tool("Underline");
    await tool("Strikethrough");
    await desk.keyboard.type("struck ");
    await tool("Strikethrough");
    await tool("Text colour");
    await editor.getByRole("button", { name: "Red", exact: true }).click();
    await desk.keyboard.type("red");
    await desk.keyboard.press("Enter");
    await tool("Numbered list");
    await desk.keyboard.type("first");
    await desk.keyboard.press("Enter");
    await desk.keyboard.type("nested");
    await tool("Indent");
    if (!/<ol><li>(?:(?!<\/ol>).)*<ol><li>(<[^>]+>)*nested/.test(await box2.innerHTML())) fail(`Indent should nest the item: ${await box2.innerHTML()}`);
    await tool("Outdent");
    if (/<ol><li>(?:(?!<\/ol>).)*<ol>/.test(await box2.innerHTML())) fail(`Outdent should undo it: ${await box2.innerHTML()}`);
    await desk.keyboard.press("End");
    await desk.keyboard.press("Enter");
    await desk.keyboard.press("Enter");
    await tool("Quote");
    await desk.keyboard.type("quoted");
    await desk.keyboard.press("Enter");
    await tool("Quote");
    await tool("Link");
    await editor.getByLabel("Link address").fill("https://example.com/help");
    await editor.getByRole("button", { name: "Insert link" }).click();
    await tool("Table");
    const tools = await box2.innerHTML();
    for (const [what, re] of [["a heading", /<h3>Title<\/h3>/], ["italic", /<i>slanted/], ["underline", /<u>under/],
      ["strike-through", /<(strike|s)>struck/], ["colour", /<font color="#c0362c">red/], ["a numbered list", /<ol><li>(<font[^>]*>)?first/], ["a quote", /<blockquote>quoted/], ["a link", /<a href="https:\/\/example.com\/help">/],
      ["a table", /<table><tbody><tr><td>/]]) {
      if (!re.test(tools)) fail(`the editor should make ${what}: ${tools}`);
    }
    const to = await editor.getByLabel("To").inputValue();
    if (to !== "ada@example.org") fail(`reply all to the customer (nobody else was on the mail): ${to}`);
    await shot(desk, "8-email-toolbar");
    // At most 10 files: the 11th is refused in the page.
    const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `part${i + 1}.txt`, mimeType: "text/plain", buffer: Buffer.from(`part ${i + 1}\n`) }));
    await editor.locator("input[type=file]").setInputFiles(eleven);
    await pane.locator(".email-error").filter({ hasText: "part11.txt: at most 10 files" }).waitFor({ timeout: TIMEOUT });
    const listed = await editor.getByRole("list", { name: "Attached files" }).locator(".email-file-name").count();
    if (listed !== 10) fail(`ten files should be listed, not ${listed}`);
    await editor.getByRole("button", { name: "Discard" }).click();
    await editor.waitFor({ state: "hidden", timeout: TIMEOUT });
    await pane.getByRole("button", { name: "End" }).click();
    await wrap.waitFor({ timeout: TIMEOUT });
    if (!(await pane.locator(".email-notice").innerText()).includes("without a reply")) fail("the pane should say it was ended");
    await wrapUp(desk, "Resolved");
    await pane.waitFor({ state: "detached", timeout: TIMEOUT });
    await expectState(desk, "Ready");
    if (errors.length) fail(`page errors: ${errors.join("; ")}`);
    console.log(JSON.stringify({ ok: true, thread: threadId, transferred: moved }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
