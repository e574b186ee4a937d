// Voice calls in the agent desktop, in headless Chromium against a running switch:
//   node voice.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_voice.rs, which places the SIPp calls: agent 1001
// (password pass1001, phone = a SIPp UAS that rings then answers) in queue 8000 "Sales"
// (manual wrap-up); a first caller 5550101 is held, retrieved and blind-transferred to
// 1003 from the browser; with a second caller 5550102 the agent consults 1003, makes a
// conference of it, mutes and removes 1003, and hangs up from the browser. Prints one
// JSON line {"ok":true,...} at the end; exits non-zero with the failing step otherwise.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node voice.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 15_000;

const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function expectState(desk, label) {
  try {
    await desk.locator("#state-label").filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`agent state should be ${label}, is ${await desk.locator("#state-label").innerText()}`);
  }
}

async function expectCallState(pane, label) {
  try {
    await pane.getByRole("status", { name: "Call state" }).filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`call state should be ${label}, is ${await pane.getByRole("status", { name: "Call state" }).innerText().catch(() => "?")}`);
  }
}

// The customer's leg's hold as GET /api/calls has it, from the page's own session.
async function holdOverRest(desk, callId) {
  return desk.evaluate(async (id) => {
    const calls = await api("GET", "/api/calls");
    const call = calls.find((c) => c.id === id);
    if (!call) return "gone";
    return call.legs.map((l) => l.hold).join(",");
  }, callId);
}

async function offerAndPane(desk, caller) {
  const offer = desk.getByRole("dialog", { name: "Incoming call" });
  await offer.waitFor({ timeout: 30_000 });
  const text = await offer.innerText();
  if (!text.includes(caller)) fail(`the offer should name ${caller}: ${text}`);
  if (!text.includes("Sales (8000)")) fail(`the offer should name the queue: ${text}`);
  if (!text.includes("Answer on your phone")) fail(`the offer should say to answer on the phone: ${text}`);
  if (await offer.getByRole("button", { name: "Accept" }).isVisible()) fail("a voice offer has no Accept");
  return offer;
}

async function wrapUp(desk, shotName) {
  const dialog = desk.getByRole("dialog", { name: "Wrap-up" });
  await dialog.waitFor({ timeout: TIMEOUT });
  await expectState(desk, "After-Call Work");
  if (shotName) await shot(desk, shotName);
  await desk.getByRole("button", { name: "Submit wrap-up" }).click();
  await dialog.waitFor({ state: "hidden", timeout: TIMEOUT });
  await expectState(desk, "Ready");
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const result = { ok: false, calls: [] };
  try {
    step("agent logs in and goes Ready");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const desk = await context.newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(desk, "Ready");

    step("first call: the pop-up while the phone rings");
    const offer = await offerAndPane(desk, "5550101");
    await shot(desk, "voice-offer");
    await offer.waitFor({ state: "hidden", timeout: TIMEOUT });

    step("the call pane shows Talking once the phone answered");
    const pane = desk.getByRole("article", { name: "Call with 5550101" });
    await pane.waitFor({ timeout: TIMEOUT });
    await expectCallState(pane, "Talking");
    await expectState(desk, "Busy");
    const callId = await desk.evaluate(() => [...voiceCalls.keys()][0]);
    result.calls.push(callId);
    const parties = await pane.getByRole("list", { name: "Parties" }).innerText();
    if (!parties.includes("5550101") || !parties.includes("You (1001)")) fail(`parties: ${parties}`);
    await desk.locator("#interaction-list li").filter({ hasText: "5550101" }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "voice-talking");

    step("Hold, then Retrieve");
    await pane.getByRole("button", { name: "Hold", exact: true }).click();
    await expectCallState(pane, "On hold");
    const held = await holdOverRest(desk, callId);
    if (!held.split(",").includes("held")) fail(`after Hold the REST call shows holds ${held}`);
    await pane.getByRole("button", { name: "Retrieve", exact: true }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "voice-on-hold");
    await desk.waitForTimeout(1200);
    await pane.getByRole("button", { name: "Retrieve", exact: true }).click();
    await expectCallState(pane, "Talking");
    const retrieved = await holdOverRest(desk, callId);
    if (retrieved.split(",").includes("held")) fail(`after Retrieve the REST call shows holds ${retrieved}`);

    step("blind Transfer to 1003");
    await pane.getByRole("button", { name: "Transfer", exact: true }).click();
    await pane.getByRole("alert").filter({ hasText: "Enter a number" }).waitFor({ timeout: TIMEOUT });
    await pane.getByLabel("Target").fill("1003");
    await pane.getByRole("button", { name: "Transfer", exact: true }).click();
    await expectCallState(pane, "Ended");
    const notice = await pane.locator(".chat-notice").innerText();
    if (!notice.includes("transferred")) fail(`after the transfer the pane says: ${notice}`);
    await wrapUp(desk, "voice-wrapup");

    step("second call: Hang up from the browser");
    await offerAndPane(desk, "5550102");
    const pane2 = desk.getByRole("article", { name: "Call with 5550102" });
    await pane2.waitFor({ timeout: TIMEOUT });
    await expectCallState(pane2, "Talking");
    result.calls.push(await desk.evaluate(() => [...voiceCalls.keys()].find((k) => voiceCalls.get(k).customer === "5550102")));
    // The timer ticks once a second: after 2.5 s it shows at least 00:01.
    await desk.waitForTimeout(2500);
    const timer = await pane2.getByLabel("Call time").innerText();
    if (!/^00:0[1-9]$/.test(timer)) {
      const why = await desk.evaluate(() => [...voiceCalls.values()].map((p) => ({ id: p.id, anchor: p.anchor, key: p.anchorKey, answered: p.view.answered_ms, started: p.view.started_ms, now: Date.now(), ended: p.ended, text: p.timer.textContent, connected: p.node.isConnected })));
      fail(`the call timer should count: ${timer} ${JSON.stringify(why)}`);
    }
    await shot(desk, "voice-second-call");

    step("Consult 1003, then Complete conference; Mute and Remove 1003");
    await pane2.getByLabel("Target").fill("1003");
    await pane2.getByRole("button", { name: "Consult", exact: true }).click();
    await expectCallState(pane2, "Consulting");
    await pane2.getByRole("button", { name: "Alternate", exact: true }).waitFor({ timeout: TIMEOUT });
    await pane2.getByRole("list", { name: "Parties" }).locator("li").filter({ hasText: "1003" }).waitFor({ timeout: TIMEOUT });
    await desk.waitForTimeout(800);
    await shot(desk, "voice-consulting");
    await pane2.getByRole("button", { name: "Complete conference", exact: true }).click();
    await expectCallState(pane2, "Conference");
    await pane2.getByRole("button", { name: "Mute 1003", exact: true }).click();
    await pane2.getByRole("button", { name: "Unmute 1003", exact: true }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "voice-conference");
    await pane2.getByRole("button", { name: "Remove 1003", exact: true }).click();
    await pane2.getByRole("list", { name: "Parties" }).locator("li").filter({ hasText: "1003" }).waitFor({ state: "detached", timeout: TIMEOUT });
    await expectCallState(pane2, "Conference");

    step("Hang up");
    await pane2.getByRole("button", { name: "Hang up", exact: true }).click();
    await expectCallState(pane2, "Ended");
    await shot(desk, "voice-hung-up");
    await wrapUp(desk, null);
    await pane2.waitFor({ state: "detached", timeout: TIMEOUT });
    await shot(desk, "voice-after");
    result.ok = true;
  } catch (e) {
    for (const page of browser.contexts().flatMap((c) => c.pages())) {
      await shot(page, "failure").catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(`failed: ${e.stack || e.message}`);
  process.exit(1);
});
