// The preview dialer in the agent desktop, in headless Chromium against a running switch:
//   node preview.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_preview.rs: agent 3001 (password pass3001) of queue 8100,
// a countdown campaign "Renewals e2e" with three records (Ada Lovelace, Bob Brown, Cleo
// Clark). The page logs in, goes Ready then Not Ready (so the dialer knows its queues
// but pushes nothing), prints "waiting-for-campaign" once its event stream is up, and the
// test starts the campaign. Then: the notice, Get Record, the countdown calling Ada's
// number by itself, the call in the voice pane, the outcome saved; Bob declined with Call
// later, Cleo with Do not call. Prints one JSON line {"ok":true,...} at the end.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node preview.mjs BASE_URL SCREENSHOT_DIR");
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

async function expectText(locator, text, what, timeout = TIMEOUT) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout });
  } catch (e) {
    fail(`${what}: no ${JSON.stringify(text)} (have ${JSON.stringify(await locator.allInnerTexts())})`);
  }
}

async function getRecord(pane, name) {
  await pane.getByRole("button", { name: "Get Record", exact: true }).click();
  const record = pane.getByRole("region", { name: "Record" });
  await expectText(record, name, "the record on screen");
  return record;
}

// The next record: pushed by the dialer when the agent is Ready again after an outcome or
// a decline (the ACD puts the agent back to Ready), else pulled with Get Record.
async function nextRecord(pane, name) {
  const record = pane.getByRole("region", { name: "Record" });
  try {
    await record.filter({ hasText: name }).waitFor({ timeout: 2000 });
    console.error(`${name}: pushed by the dialer`);
    return { record, pushed: true };
  } catch (_) {
    return { record: await getRecord(pane, name), pushed: false };
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const result = { ok: false, records: {} };
  try {
    step("agent logs in, Ready then Not Ready");
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const desk = await context.newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("3001");
    await desk.getByLabel("Password").fill("pass3001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();
    await expectState(desk, "Ready");
    await desk.getByRole("button", { name: "Not Ready", exact: true }).click();
    await expectState(desk, "Not Ready");
    const pane = desk.getByRole("article", { name: "Preview" });
    await pane.waitFor({ timeout: TIMEOUT });
    await expectText(pane.getByRole("combobox", { name: "Campaign" }), "Renewals e2e · Stopped", "the stopped campaign listed");
    if (!(await pane.getByRole("button", { name: "Get Record" }).isDisabled())) fail("Get Record needs a running campaign");
    await desk.waitForFunction(() => desk.events && desk.events.readyState === 1);
    await desk.waitForTimeout(300);
    console.log("waiting-for-campaign");

    step("the campaign's notices arrive");
    await expectText(pane.getByRole("list", { name: "Campaign notices" }).locator("li"), "Campaign Renewals e2e started", "the started notice", 30_000);
    await expectText(pane.getByRole("list", { name: "Campaign notices" }).locator("li"), "Campaign Renewals e2e loaded", "the loaded notice");
    await expectText(desk.getByRole("list", { name: "System notices" }).locator("li"), "Campaign Renewals e2e started", "My Messages");
    const count = await desk.locator("#messages-count").innerText();
    if (Number(count) < 2) fail(`My Messages should count the notices: ${count}`);
    await expectText(pane.getByRole("combobox", { name: "Campaign" }), "Renewals e2e · Running", "the running campaign");
    await shot(desk, "preview-notices");

    step("Get Record: Ada's case and record information, numbers, countdown");
    let record = await getRecord(pane, "Ada Lovelace");
    await expectText(record.getByRole("definition"), "P-42", "the case information");
    await expectText(pane.getByRole("group", { name: "Number to call" }).locator("label"), "+447700900123 (mobile)", "the record's number");
    await pane.getByRole("radio", { name: "New number" }).waitFor({ timeout: TIMEOUT });
    await pane.getByRole("combobox", { name: "Number type" }).waitFor({ timeout: TIMEOUT });
    const timer = pane.getByRole("timer", { name: "Auto-dial countdown" });
    await timer.waitFor({ timeout: TIMEOUT });
    const first = Number(await timer.getAttribute("data-seconds"));
    await shot(desk, "preview-record");
    await desk.waitForTimeout(2100);
    const later = Number(await timer.getAttribute("data-seconds"));
    if (!(first >= 2 && later < first)) {
      const why = await desk.evaluate(() => { let err = null; try { tick(); } catch (e) { err = String(e); } return { err, ticks: desk.ticks.length, after: pv$("pv-countdown").textContent, dial_at: pv.record && pv.record.dial_at, now: new Date().toISOString(), calling: pv.calling, text: pv$("pv-countdown").textContent }; });
      fail(`the countdown should count down: ${first} then ${later} (${JSON.stringify(why)})`);
    }
    result.records.ada = await desk.evaluate(() => pv.record.record);

    step("the countdown dials by itself; the call shows in the voice pane");
    const call = desk.getByRole("article", { name: "Call with +447700900123" });
    await call.waitFor({ timeout: 20_000 });
    await expectText(call.getByRole("status", { name: "Call state" }), "Talking", "the preview call's state");
    await expectText(pane.getByRole("status"), "Connected", "the preview pane's status");
    await shot(desk, "preview-call");

    step("the contact hangs up: call result, disposition, notes, saved");
    const form = pane.getByRole("form", { name: "Call outcome" });
    await form.waitFor({ timeout: 20_000 });
    await form.getByLabel("Call result").selectOption("success");
    await form.getByLabel("Sale", { exact: true }).check();
    await form.getByLabel("Upsell", { exact: true }).check();
    await form.getByLabel("Notes").fill("Renewed for a year; wants paper invoices.");
    if (await form.getByLabel("Do Not Call").isChecked()) fail("Do Not Call starts unchecked");
    await shot(desk, "preview-outcome");
    await expectState(desk, "After-Call Work");
    await form.getByRole("button", { name: "Save outcome" }).click();
    await form.waitFor({ state: "hidden", timeout: TIMEOUT });
    await expectText(pane.getByRole("list", { name: "Campaign notices" }).locator("li"), "Outcome saved.", "the saved notice");

    step("Bob: Decline, Call later");
    ({ record } = await nextRecord(pane, "Bob Brown"));
    result.records.bob = await desk.evaluate(() => pv.record.record);
    await pane.getByRole("button", { name: "Decline", exact: true }).click();
    await pane.getByRole("button", { name: "Call later", exact: true }).click();
    await expectText(pane.getByRole("list", { name: "Campaign notices" }).locator("li"), "called later", "the call-later notice");

    step("Cleo: Decline, Do not call");
    ({ record } = await nextRecord(pane, "Cleo Clark"));
    result.records.cleo = await desk.evaluate(() => pv.record.record);
    await pane.getByRole("button", { name: "Decline", exact: true }).click();
    await shot(desk, "preview-decline");
    await pane.getByRole("button", { name: "Do not call", exact: true }).click();
    await expectText(pane.getByRole("list", { name: "Campaign notices" }).locator("li"), "Do Not Call list", "the do-not-call notice");
    await pane.getByRole("region", { name: "Record" }).waitFor({ state: "hidden", timeout: TIMEOUT });
    await shot(desk, "preview-done");
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
