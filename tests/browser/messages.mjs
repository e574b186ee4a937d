// "My Messages" in the agent desktop, in headless Chromium against a running switch:
//   node messages.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/desktop_messages.rs: agent 1001 (password pass1001, extension
// 1001) has one new voicemail from 5550199. The page shows it with the count of new
// messages, plays it (an <audio> on the WAV; playing marks it read), and deletes it.
// Prints one JSON line {"ok":true,...} at the end.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node messages.mjs BASE_URL SCREENSHOT_DIR");
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
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"],
  });
  const result = { ok: false };
  try {
    step("agent logs in");
    const desk = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    desk.on("pageerror", (e) => console.error(`desktop page error: ${e.message}`));
    await desk.goto(`${base}/desktop/`);
    await desk.getByLabel("User ID").fill("1001");
    await desk.getByLabel("Password").fill("pass1001");
    await desk.getByRole("button", { name: "Login", exact: true }).click();
    await desk.locator("#state-label").filter({ hasText: /^Not Ready$/ }).waitFor({ timeout: TIMEOUT });

    step("My Messages lists the voicemail with the count of new ones");
    const box = desk.getByRole("list", { name: "Voicemail" });
    const item = box.locator("li").filter({ hasText: "5550199" });
    await item.waitFor({ timeout: TIMEOUT });
    const count = desk.locator("#messages-count");
    if ((await count.innerText()) !== "1") fail(`the count of new messages: ${await count.innerText()}`);
    await shot(desk, "messages-new");

    step("Play: the WAV loads in an <audio>, the message is marked read");
    await desk.getByRole("button", { name: "Play message from 5550199" }).click();
    const audio = item.locator("audio");
    await audio.waitFor({ timeout: TIMEOUT });
    const duration = await audio.evaluate((a) => new Promise((res) => {
      if (a.readyState >= 1) return res(a.duration);
      a.addEventListener("loadedmetadata", () => res(a.duration), { once: true });
      a.addEventListener("error", () => res(-1), { once: true });
      setTimeout(() => res(-2), 10000);
    }));
    if (!(duration > 2 && duration < 5)) fail(`the audio's duration: ${duration}`);
    result.duration = duration;
    await count.waitFor({ state: "hidden", timeout: TIMEOUT });
    if (await desk.getByRole("button", { name: "Mark message from 5550199 read" }).isVisible()) fail("still unread after Play");
    await shot(desk, "messages-played");

    step("Delete");
    await desk.getByRole("button", { name: "Delete message from 5550199" }).click();
    await item.waitFor({ state: "detached", timeout: TIMEOUT });
    await desk.getByText("No voicemail.").waitFor({ timeout: TIMEOUT });
    await shot(desk, "messages-deleted");
    result.ok = true;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(`failed: ${e.stack || e.message}`);
  process.exit(1);
});
