// Agent-to-agent IM and the team directory in headless Chromium, against a running switch:
//   node im.mjs BASE_URL SCREENSHOT_DIR
// The switch must have agents 1001 "Dana Agent" / 1002 "Eli Agent" (passwords passNNNN)
// in team "sales" with queue 8000 "Sales", im.invite_timeout_secs = 3, and phone user 2000
// answered by SIPp (uas_message.xml: expects "Hello phone from Dana", writes back "Hello
// Dana from the phone"). Prints {"ok":true,"accepted":ID,"declined":ID,"timed_out":ID}.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node im.mjs BASE_URL SCREENSHOT_DIR");
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

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function desktop(browser, user, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`${user} page error: ${e.message}`));
  await page.goto(`${base}/desktop/`);
  await page.getByLabel("User ID").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Login", exact: true }).click();
  await page.locator("#state-label").filter({ hasText: "Not Ready" }).waitFor({ timeout: TIMEOUT });
  return page;
}

const pane = (page, name) => page.getByRole("article", { name: `IM with ${name}` });

async function status(p, text, what) {
  await expectText(p.locator(".im-status"), text, what);
}

async function say(p, text) {
  await p.getByLabel("Message").fill(text);
  await p.getByLabel("Message").press("Enter");
}

async function entry(p, sender, text, what) {
  try {
    await p.getByRole("log").locator(`.entry[data-sender="${sender}"][data-time]`).filter({ hasText: text }).first()
      .waitFor({ timeout: TIMEOUT });
  } catch (e) {
    await shot(p.page(), `failed-${what.replace(/\W+/g, "-")}`);
    fail(`${what}: no line of ${sender} with ${JSON.stringify(text)} (have ${JSON.stringify(await p.locator(".transcript .entry").allInnerTexts())})`);
  }
}

async function invite(dana, text) {
  await dana.getByLabel("Search directory").fill("Eli");
  await dana.getByRole("button", { name: "Send IM to Eli Agent" }).click();
  const p = pane(dana, "Eli Agent");
  await p.waitFor({ timeout: TIMEOUT });
  await say(p, text);
  await status(p, "Inviting", "sender waits for the answer");
  return p;
}

async function markDone(p) {
  await p.getByRole("button", { name: "Mark Done" }).click();
  await p.waitFor({ state: "detached", timeout: TIMEOUT });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const out = { ok: false };
  try {
    step("both agents log in");
    const dana = await desktop(browser, "1001", "pass1001");
    const eli = await desktop(browser, "1002", "pass1002");

    step("directory search and live presence");
    await dana.getByLabel("Search directory").fill("eli");
    const eliEntry = dana.locator('#directory-people li[data-person="1002"]');
    await expectText(eliEntry, "Not Ready", "Eli is Not Ready");
    try {
      await dana.waitForFunction(() => document.querySelectorAll("#directory-people li").length === 1, null, { timeout: TIMEOUT });
    } catch (e) {
      fail(`search "eli" should find one person, found ${await dana.locator("#directory-people li").allInnerTexts()}`);
    }
    await eli.getByRole("button", { name: "Ready", exact: true }).first().click();
    await eli.locator("#state-label").filter({ hasText: /^Ready$/ }).waitFor({ timeout: TIMEOUT });
    await dana.locator('#directory-people li[data-person="1002"][data-presence="ready"]').waitFor({ timeout: TIMEOUT });
    await expectText(eliEntry.locator(".presence-label"), "Ready", "Eli's presence turns Ready live");
    await dana.getByLabel("Search directory").fill("");
    await expectText(dana.locator('#directory-queues li[data-queue="8000"]'), "1 available", "queue counts");
    await expectText(dana.locator("#directory-people"), "Sam Supervisor", "supervisor listed");
    if (await dana.locator('#directory-people li[data-person="1020"]').count()) fail("another team's agent is listed");
    // A supervisor without an ACD agent: present while logged in, live too.
    await expectText(dana.locator('#directory-people li[data-person="1010"]'), "Logged out", "Sam logged out");
    const sam = await (await browser.newContext()).newPage();
    await sam.goto(`${base}/desktop/`);
    await sam.evaluate(async () => {
      const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: "1010", password: "pass1010" }) });
      if (!r.ok) throw new Error(`supervisor login: ${r.status}`);
    });
    await dana.locator('#directory-people li[data-person="1010"][data-presence="available"]').waitFor({ timeout: TIMEOUT });
    await expectText(dana.locator('#directory-people li[data-person="1010"]'), "Available", "Sam available live");
    await shot(dana, "directory");

    step("invitation accepted, messages both ways, End session");
    const dp = await invite(dana, "Hi Eli, a quick question");
    const pop = eli.getByRole("dialog", { name: "IM invitation" });
    await pop.waitFor({ timeout: TIMEOUT });
    await expectText(pop, "Dana Agent", "invitation names the sender");
    await expectText(pop, "Hi Eli, a quick question", "invitation shows the first message");
    await shot(eli, "im-invitation");
    await pop.getByRole("button", { name: "Accept", exact: true }).click();
    const ep = pane(eli, "Dana Agent");
    await status(ep, "Connected", "receiver connected");
    await status(dp, "Connected", "sender told: accepted");
    await entry(ep, "Dana Agent", "Hi Eli, a quick question", "receiver sees the first message");
    await say(ep, "Sure Dana, go ahead");
    await entry(dp, "Eli Agent", "Sure Dana, go ahead", "sender sees the answer with its name");
    await say(dp, "My card 4111 1111 1111 1111 was refused");
    await entry(ep, "Dana Agent", "**** **** **** 1111", "card masked for the receiver");
    await entry(dp, "Dana Agent", "**** **** **** 1111", "card masked for the sender");
    if ((await ep.innerText()).includes("4111 1111 1111 1111")) fail("card number shown");
    await shot(dana, "im-window-sender");
    await shot(eli, "im-window-receiver");
    out.accepted = Number(await dp.getAttribute("data-session"));
    await dp.getByRole("button", { name: "End session" }).click();
    await status(dp, "Ended", "sender ended");
    await status(ep, "Ended", "ended for both");
    await markDone(dp);
    await markDone(ep);

    step("invitation declined");
    const dp2 = await invite(dana, "Are you free?");
    await pop.waitFor({ timeout: TIMEOUT });
    await pop.getByRole("button", { name: "Decline", exact: true }).click();
    await pop.waitFor({ state: "hidden", timeout: TIMEOUT });
    await status(dp2, "Declined", "sender told: declined");
    await expectText(dp2.locator(".im-notice"), "Eli Agent declined the invitation.", "decline notice");
    out.declined = Number(await dp2.getAttribute("data-session"));
    await markDone(dp2);

    step("invitation timed out");
    const dp3 = await invite(dana, "Still there?");
    await pop.waitFor({ timeout: TIMEOUT });
    await status(dp3, "Timed out", "sender told: timed out");
    await expectText(dp3.locator(".im-notice"), "Eli Agent did not answer in time.", "timeout notice");
    await pop.waitFor({ state: "hidden", timeout: TIMEOUT });
    out.timed_out = Number(await dp3.getAttribute("data-session"));
    await shot(dana, "im-timed-out");
    await markDone(dp3);

    step("IM to a phone as SIP MESSAGE, and its MESSAGE back");
    await dana.getByLabel("Search directory").fill("2000");
    await dana.getByRole("button", { name: "Send IM to 2000" }).click();
    const pp = pane(dana, "2000");
    await say(pp, "Hello phone from Dana");
    await status(pp, "Connected", "a phone session is connected at once");
    await entry(pp, "2000", "Hello Dana from the phone", "the phone's MESSAGE shows in the window");
    await shot(dana, "im-phone");

    step("a reload brings the open IM window back with its transcript");
    await dana.reload();
    await dana.locator("#state-label").filter({ hasText: "Not Ready" }).waitFor({ timeout: TIMEOUT });
    const again = pane(dana, "2000");
    await status(again, "Connected", "the phone session after a reload");
    await entry(again, "2000", "Hello Dana from the phone", "the transcript after a reload");
    if (await pane(dana, "Eli Agent").count()) fail("windows marked done came back");

    step("IM consult about a live chat: the consulted agent sees the case data read-only");
    await eli.getByRole("button", { name: "Not Ready", exact: true }).click();
    await eli.locator("#state-label").filter({ hasText: "Not Ready" }).waitFor({ timeout: TIMEOUT });
    await dana.getByRole("button", { name: "Ready", exact: true }).first().click();
    await dana.locator("#state-label").filter({ hasText: /^Ready$/ }).waitFor({ timeout: TIMEOUT });
    const cust = await (await browser.newContext()).newPage();
    await cust.goto(`${base}/chat/`);
    await cust.getByLabel("Name").fill("Alice Customer");
    await cust.getByLabel("ACD DN").fill("8000");
    await cust.getByRole("button", { name: "Chat", exact: true }).click();
    await cust.locator("#conversation[data-interaction]").waitFor({ timeout: TIMEOUT });
    const chatId = Number(await cust.locator("#conversation").getAttribute("data-interaction"));
    await dana.getByRole("dialog", { name: "Incoming chat" }).waitFor({ timeout: TIMEOUT });
    await dana.getByRole("button", { name: "Accept", exact: true }).click();
    await dana.getByRole("article", { name: "Chat with Alice Customer" }).waitFor({ timeout: TIMEOUT });
    await cust.getByLabel("Message").fill("I need help with order 42");
    await cust.getByLabel("Message").press("Enter");
    await dana.getByRole("article", { name: "Chat with Alice Customer" }).locator(".entry").filter({ hasText: "order 42" })
      .first().waitFor({ timeout: TIMEOUT });
    await dana.getByLabel("Search directory").fill("Eli");
    await dana.getByRole("button", { name: "Send IM to Eli Agent" }).click();
    const cp = pane(dana, "Eli Agent");
    await cp.getByLabel("About interaction").selectOption(String(chatId));
    await say(cp, "Can you look at this order?");
    await pop.waitFor({ timeout: TIMEOUT });
    await expectText(pop, "About Alice Customer", "invitation names the case");
    await pop.getByRole("button", { name: "Accept", exact: true }).click();
    const ecp = pane(eli, "Dana Agent");
    const caseBox = ecp.getByRole("region", { name: "Case data" });
    await caseBox.waitFor({ timeout: TIMEOUT });
    await expectText(caseBox, "Alice Customer", "case data: customer");
    await expectText(caseBox, "Sales (8000)", "case data: queue");
    await expectText(caseBox, "chat", "case data: channel");
    await expectText(caseBox.locator(".entry"), "I need help with order 42", "case data: the chat so far");
    if (await caseBox.locator("input, textarea, select").count()) fail("case data must be read-only");
    await entry(ecp, "Dana Agent", "Can you look at this order?", "consult message");
    await shot(eli, "im-consult-case-data");
    out.consult = Number(await cp.getAttribute("data-session"));
    out.chat = chatId;
    out.ok = true;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`failed: ${e.message}`);
  process.exit(1);
});
