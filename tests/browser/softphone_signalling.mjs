// The browser phone's signalling in the agent desktop, in headless Chromium against a
// running switch:
//   node softphone_signalling.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_softphone.rs, which places the SIPp calls. Agent 1001
// (pass1001) chooses "Browser phone" in the Phone settings and sees Registered (also after
// a reload: the choice is remembered); goes Ready; a first caller rings the browser (the
// ACD's pop-up has Answer, the Phone card rings) and gives up: the ring stops; a second
// caller rings and the agent declines from the Phone card: the call goes back to the queue
// and the agent is told so; then the agent dials 1003 on the keypad, hears it ring (180)
// and cancels; last, back to "Desk phone": the registration ends. Fake media devices, so
// getUserMedia and the peer connection run as with a real microphone. Prints one JSON line
// {"ok":true,...} at the end; exits non-zero with the failing step otherwise.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node softphone_signalling.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 10_000;

const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function expectText(locator, re, what) {
  try {
    await locator.filter({ hasText: re }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`${what} should match ${re}, is ${await locator.innerText().catch(() => "?")}`);
  }
}

const expectState = (desk, label) =>
  expectText(desk.locator("#state-label"), new RegExp(`^${label}$`), "agent state");
const expectReg = (desk, label) =>
  expectText(desk.getByRole("status", { name: "Phone registration" }), new RegExp(`^${label}$`), "phone registration");

// The Phone card's call strip, and its state.
const strip = (desk) => desk.getByRole("region", { name: "Browser phone call" });
const expectCall = (desk, label) =>
  expectText(desk.getByRole("status", { name: "Phone call state" }), new RegExp(`^${label}$`), "phone call state");

async function noCalls(desk) {
  for (let i = 0; i < 150; i++) {
    const n = await desk.evaluate(async () => (await api("GET", "/api/calls")).length);
    if (n === 0) return;
    await desk.waitForTimeout(200);
  }
  fail("the switch still has calls");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required"],
  });
  const result = { ok: false };
  try {
    step("agent logs in and chooses the browser phone");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const desk = await context.newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    desk.on("console", (m) => { if (m.type() === "error" || process.env.SIP_TRACE) console.error(`console: ${m.text()}`); });
    if (process.env.SIP_TRACE) await context.addInitScript(() => localStorage.setItem("ccswitch.sipTrace", "1"));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");
    await expectReg(desk, "Desk phone");
    if (await desk.getByRole("group", { name: "Dial pad" }).isVisible()) fail("a desk phone has no keypad in the page");
    await shot(desk, "desk-phone");
    await desk.locator("#phone-settings summary").click();
    await desk.getByLabel("Phone", { exact: true }).selectOption("browser");
    await expectReg(desk, "Registered");
    const mics = await desk.getByLabel("Microphone").locator("option").allInnerTexts();
    if (mics.length < 2) fail(`the microphone list should hold the fake device: ${mics}`);
    result.mics = mics;
    await desk.getByRole("group", { name: "Dial pad" }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "registered-settings");

    step("the choice is remembered across a reload");
    await desk.getByLabel("Microphone").selectOption({ index: 1 });
    await desk.reload();
    await expectState(desk, "Not Ready");
    await expectReg(desk, "Registered");
    await desk.locator("#phone-settings summary").click();
    if ((await desk.getByLabel("Phone", { exact: true }).inputValue()) !== "browser") fail("the phone mode was not remembered");
    await desk.getByLabel("Microphone").locator("option").nth(1).waitFor({ state: "attached", timeout: TIMEOUT });
    await desk.waitForTimeout(300);
    if ((await desk.getByLabel("Microphone").evaluate((s) => s.selectedIndex)) !== 1) fail("the microphone was not remembered");
    await desk.locator("#phone-settings summary").click();

    step("Ready: a caller rings the browser, then gives up");
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(desk, "Ready");
    const offer = desk.getByRole("dialog", { name: "Incoming call" });
    await offer.waitFor({ timeout: 30_000 });
    await expectCall(desk, "Ringing");
    const answer = offer.getByRole("button", { name: "Answer", exact: true });
    await answer.waitFor({ timeout: TIMEOUT });
    await expectText(offer, /Answer here, in the browser/, "the offer");
    if (!(await strip(desk).innerText()).includes("5550201")) fail("the Phone card should name the caller");
    await expectText(offer.locator("#offer-customer"), /^5550201$/, "the pop-up's caller");
    await shot(desk, "ringing");
    await offer.waitFor({ state: "hidden", timeout: 30_000 });
    await strip(desk).waitFor({ state: "hidden", timeout: TIMEOUT });
    await expectText(desk.locator("#dial-status"), /The call stopped ringing/, "phone status");
    await expectState(desk, "Ready");
    await shot(desk, "caller-gave-up");
    writeFileSync(join(shots, "at-second"), ""); // the test places the second call now

    step("a second caller rings; the agent declines in the pop-up");
    await offer.waitFor({ timeout: 30_000 });
    await expectCall(desk, "Ringing");
    await expectText(offer.locator("#offer-customer"), /^5550202$/, "the pop-up's caller");
    await offer.getByRole("button", { name: "Decline", exact: true }).click();
    await strip(desk).waitFor({ state: "hidden", timeout: TIMEOUT });
    await offer.waitFor({ state: "hidden", timeout: TIMEOUT });
    await desk.getByRole("alert", { name: "Missed offer" }).filter({ hasText: "You declined an offer" }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "declined");
    await noCalls(desk); // the caller gives up in the queue
    await desk.locator("#rona").getByRole("button", { name: "Not Ready" }).click();
    await expectState(desk, "Not Ready");

    step("the agent dials 1003 on the keypad, hears it ring, and cancels");
    for (const k of ["1", "0", "0", "3"]) await desk.getByRole("button", { name: `Key ${k}` }).click();
    if ((await desk.getByLabel("Number to call").inputValue()) !== "1003") fail("the keypad should type the number");
    await desk.getByRole("button", { name: "Call", exact: true }).click();
    await strip(desk).waitFor({ timeout: TIMEOUT });
    await expectCall(desk, "Ringing");
    if (!(await strip(desk).innerText()).includes("Outgoing")) fail("the strip should say Outgoing");
    await shot(desk, "outgoing-ringing");
    await strip(desk).getByRole("button", { name: "Cancel", exact: true }).click();
    await strip(desk).waitFor({ state: "hidden", timeout: TIMEOUT });
    await expectText(desk.locator("#dial-status"), /Call cancelled/, "phone status");
    await noCalls(desk);

    step("back to the desk phone");
    await desk.locator("#phone-settings summary").click();
    await desk.getByLabel("Phone", { exact: true }).selectOption("desk");
    await expectReg(desk, "Desk phone");
    await desk.getByRole("button", { name: "Dial", exact: true }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "desk-again");
    result.ok = true;
  } catch (e) {
    for (const pg of browser.contexts().flatMap((c) => c.pages())) await shot(pg, "failure").catch(() => {});
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
