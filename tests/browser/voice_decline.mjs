// Declining a voice offer from the agent desktop, in headless Chromium:
//   node voice_decline.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_voice_decline.rs: agent 1001 (password pass1001, phone = a
// SIPp UAS that rings and never answers) goes Ready; a caller dials queue 8000; the pop-up
// offers Decline beside the note to answer on the phone; Decline sends the call back to
// the queue, the pop-up goes and the desktop shows RONA with its choice; the agent picks
// Not Ready. Prints one JSON line {"ok":true} at the end; exits non-zero otherwise.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node voice_decline.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 15_000;
const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function expectState(desk, label) {
  try {
    await desk.locator("#state-label").filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout: TIMEOUT });
  } catch (e) {
    fail(`agent state should be ${label}, is ${await desk.locator("#state-label").innerText()}`);
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
    const desk = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await expectState(desk, "Not Ready");
    // The caller is waiting already: Ready turns into the offer at once (Reserved).
    await desk.getByRole("button", { name: "Ready", exact: true }).first().click();

    step("the pop-up offers Decline while the phone rings");
    const offer = desk.getByRole("dialog", { name: "Incoming call" });
    await offer.waitFor({ timeout: 30_000 });
    const text = await offer.innerText();
    if (!text.includes("5550199")) fail(`the offer should name the caller: ${text}`);
    if (!text.includes("Answer on your phone")) fail(`the offer should say to answer on the phone: ${text}`);
    if (await offer.getByRole("button", { name: "Accept" }).isVisible()) fail("a voice offer has no Accept");
    const decline = offer.getByRole("button", { name: "Decline" });
    await decline.waitFor({ timeout: TIMEOUT });
    await shot(desk, "voice-offer-decline");
    await decline.click();
    await offer.waitFor({ state: "hidden", timeout: TIMEOUT });

    step("RONA, with its choice; the agent picks Not Ready");
    await expectState(desk, "RONA");
    const rona = desk.locator("#rona");
    await rona.waitFor({ timeout: TIMEOUT });
    await shot(desk, "voice-declined-rona");
    await desk.locator("#rona-not-ready").click();
    await expectState(desk, "Not Ready");
    console.log(JSON.stringify({ ok: true }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
});
