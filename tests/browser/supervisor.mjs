// The supervisor's Team pane in the agent desktop, in headless Chromium:
//   node supervisor.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_supervisor.rs: supervisor 1010 (password pass1010, no agent
// of their own, phone = a SIPp UAS that answers) in team sales; agent 1001 talks to a
// caller 5550101 from queue 8000; agent 1002 is Ready. The page shows only the Team pane;
// the supervisor whispers on the call, changes to barge, ends the supervision, makes 1002
// Not Ready and logs out. Prints one JSON line {"ok":true} at the end; non-zero otherwise.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node supervisor.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const TIMEOUT = 15_000;
const step = (name) => console.error(`step: ${name}`);
const fail = (message) => { throw new Error(message); };
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    step("the supervisor logs in: the Team pane alone");
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${base}/desktop/`);
    await page.getByLabel("User ID").fill("1010");
    await page.getByLabel("Password").fill("pass1010");
    await page.getByRole("button", { name: "Login", exact: true }).click();
    const team = page.getByRole("article", { name: "Team" });
    await team.waitFor({ timeout: TIMEOUT });
    if (await page.getByRole("button", { name: "Ready", exact: true }).isVisible()) fail("a supervisor without an agent has no state control");
    const queues = team.getByRole("table", { name: "Queues" });
    await queues.getByRole("row").filter({ hasText: "Sales (8000)" }).waitFor({ timeout: TIMEOUT });
    const agents = team.getByRole("table", { name: "Agents" });
    const dana = agents.getByRole("row").filter({ hasText: "Dana Agent" });
    await dana.filter({ hasText: "Busy" }).waitFor({ timeout: TIMEOUT });
    const calls = team.getByRole("table", { name: "Live calls" });
    const call = calls.getByRole("row").filter({ hasText: "5550101" });
    await call.filter({ hasText: "Talking" }).waitFor({ timeout: TIMEOUT });
    await shot(page, "team");

    step("Whisper: the supervisor's phone joins");
    await call.getByRole("button", { name: "Whisper on the call with 5550101" }).click();
    await call.filter({ hasText: "whisper by 1010" }).filter({ hasNotText: "ringing" }).waitFor({ timeout: TIMEOUT });
    await shot(page, "team-whisper");

    step("Barge, then End supervision");
    await call.getByRole("button", { name: "Barge on the call with 5550101" }).click();
    await call.filter({ hasText: "barge by 1010" }).waitFor({ timeout: TIMEOUT });
    await call.getByRole("button", { name: "End supervision of the call with 5550101" }).click();
    try {
      await calls.getByRole("row").filter({ hasText: "5550101" }).filter({ hasNotText: "by 1010" }).waitFor({ timeout: TIMEOUT });
    } catch (e) {
      fail(`still supervised: ${await call.innerText()}`);
    }
    await call.getByRole("button", { name: "Barge on the call with 5550101" }).waitFor({ timeout: TIMEOUT });

    step("Make Eli Not Ready");
    const eli = agents.getByRole("row").filter({ hasText: "Eli Agent" });
    await eli.filter({ hasText: "Ready" }).waitFor({ timeout: TIMEOUT });
    await eli.getByRole("button", { name: "Make Eli Agent Not Ready" }).click();
    await eli.filter({ hasText: "Not Ready (Supervisor)" }).waitFor({ timeout: TIMEOUT });
    await shot(page, "team-after");

    step("Log out");
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await page.getByLabel("User ID").waitFor({ timeout: TIMEOUT });
    console.log(JSON.stringify({ ok: true }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
});
