// Consult and transfer from the desktop with the browser phone, in headless Chromium
// against a running switch:
//   TONE_WAV=/abs/1000hz.wav node softphone_transfer.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/softphone_transfer.rs, which places the SIPp callers, runs 1003 (a
// SIPp UAS) and checks with tone peers who hears whom; the two sides step together through
// files in SCREENSHOT_DIR (`at-NAME` written here, `go-NAME` written by the test).
// Agent 1001 chooses Browser phone, goes Ready and answers a queue call in the pop-up (the
// pop-up names the queue "Sales (8000)"); types 1003 and presses Transfer: the switch ends
// the browser's leg, the pane says the caller was transferred. A second caller: the agent
// presses Consult to 1003 (the pane says Consulting, the Phone card On hold), talks to 1003,
// then Complete transfer. Prints one JSON line {"ok":true} at the end; exits non-zero with
// the failing step.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
const wav = process.env.TONE_WAV;
if (!base || !shots || !wav) {
  console.error("usage: TONE_WAV=FILE node softphone_transfer.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 15_000;

const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const signal = (name) => writeFileSync(join(shots, `at-${name}`), "");
async function until(name) {
  for (let i = 0; i < 600; i++) {
    if (existsSync(join(shots, `go-${name}`))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`the test never said go-${name}`);
}

async function expectText(locator, re, what) {
  try {
    await locator.filter({ hasText: re }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`${what} should match ${re}, is ${await locator.innerText().catch(() => "?")}`);
  }
}
const expectState = (desk, label) => expectText(desk.locator("#state-label"), new RegExp(`^${label}$`), "agent state");
const strip = (desk) => desk.getByRole("region", { name: "Browser phone call" });
const expectCall = (desk, label) =>
  expectText(desk.getByRole("status", { name: "Phone call state" }), new RegExp(`^${label}$`), "phone call state");
const paneState = (pane, label) =>
  expectText(pane.getByRole("status", { name: "Call state" }), new RegExp(`^${label}$`), "call pane");

// Answers the queue call from `caller` in the pop-up; the call's pane.
async function answerOffer(desk, caller) {
  const offer = desk.getByRole("dialog", { name: "Incoming call" });
  await offer.waitFor({ timeout: 40_000 });
  await expectText(offer.locator("#offer-customer"), new RegExp(`^${caller}$`), "the pop-up's caller");
  await expectText(offer.locator("#offer-queue"), /^Sales \(8000\)$/, "the pop-up's queue");
  const answer = offer.getByRole("button", { name: "Answer", exact: true });
  await answer.waitFor({ timeout: TIMEOUT });
  await expectCall(desk, "Ringing");
  await shot(desk, `offer-${caller}`);
  await answer.click();
  await offer.waitFor({ state: "hidden", timeout: TIMEOUT });
  await expectCall(desk, "Talking");
  const pane = desk.getByRole("article", { name: `Call with ${caller}` });
  await pane.waitFor({ timeout: TIMEOUT });
  await paneState(pane, "Talking");
  await expectText(pane.locator(".chat-sub"), /^Sales \(8000\) · call #\d+$/, "the pane's queue");
  return pane;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`,
      "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required"],
  });
  const result = { ok: false };
  try {
    step("agent logs in, chooses Browser phone, is Registered, goes Ready");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const desk = await context.newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    desk.on("console", (m) => { if (m.type() === "error") console.error(`console: ${m.text()}`); });
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");
    await desk.locator("#phone-settings summary").click();
    await desk.getByLabel("Phone", { exact: true }).selectOption("browser");
    await expectText(desk.getByRole("status", { name: "Phone registration" }), /^Registered$/, "registration");
    await desk.locator("#phone-settings summary").click();
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(desk, "Ready");

    step("a queue call answered in the browser, blind-transferred to 1003");
    const pane = await answerOffer(desk, "5550401");
    await shot(desk, "talking");
    signal("talking");
    await until("transfer");
    await pane.getByRole("textbox", { name: "Target" }).fill("1003");
    await pane.getByRole("button", { name: "Transfer", exact: true }).click();
    // The switch hands the caller to 1003 and ends the browser's leg.
    await strip(desk).waitFor({ state: "hidden", timeout: 20_000 });
    await paneState(pane, "Ended");
    await expectText(pane.locator(".chat-notice"), /5550401 was transferred/, "the pane's notice");
    await expectText(desk.locator("#dial-status"), /transferred/i, "the Phone card's status");
    await shot(desk, "transferred");
    signal("transferred");

    step("a second call: Consult 1003 (the caller on hold), then Complete transfer");
    await expectState(desk, "Ready");
    const pane2 = await answerOffer(desk, "5550402");
    signal("talking2");
    await until("consult");
    await pane2.getByRole("textbox", { name: "Target" }).fill("1003");
    await pane2.getByRole("button", { name: "Consult", exact: true }).click();
    await paneState(pane2, "Consulting");
    await expectCall(desk, "On hold");
    await expectText(pane2.getByRole("list", { name: "Parties" }), /consulted/, "the call's parties");
    if (await strip(desk).getByRole("button", { name: "Retrieve", exact: true }).isVisible()) {
      fail("consulting, the Phone card must not offer Retrieve (End consult is the pane's)");
    }
    await shot(desk, "consulting");
    signal("consulting");
    await until("complete");
    await pane2.getByRole("button", { name: "Complete transfer", exact: true }).click();
    await strip(desk).waitFor({ state: "hidden", timeout: 20_000 });
    await paneState(pane2, "Ended");
    await expectText(pane2.locator(".chat-notice"), /5550402 was transferred/, "the pane's notice");
    await shot(desk, "completed");
    signal("completed");
    result.ok = true;
  } catch (e) {
    for (const pg of browser.contexts().flatMap((c) => c.pages())) {
      await shot(pg, "failure").catch(() => {});
      const calls = await pg.evaluate(() => fetch("/api/calls").then((r) => r.text())).catch((x) => String(x));
      console.error(`calls at the failure: ${calls}`);
    }
    throw e;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
});
