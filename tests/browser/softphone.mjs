// The browser phone with media, in headless Chromium against a running switch:
//   TONE_WAV=/abs/1000hz.wav node softphone.mjs BASE_URL SCREENSHOT_DIR
// Driven by tests/tests/softphone.rs, which places the SIPp calls (tone peers of its own)
// and checks what they hear; the two sides step together through files in SCREENSHOT_DIR
// (`at-NAME` written here, `go-NAME` written by the test). The microphone is the fake
// device playing TONE_WAV (1000 Hz). Agent 1001 chooses Browser phone, is Registered, goes
// Ready; answers a queue call from the pop-up; hears the caller's 400 Hz (Goertzel over the
// remote track in the page); mutes and unmutes; sends 1, 2, # from the keypad; holds in the
// call pane (the Phone card says On hold) and retrieves from the Phone card; hangs up. A
// second caller hangs up first. Then the agent calls 3000 (a SIPp UAS with a 660 Hz tone) from
// the dial pad, hears it, and hangs up. The analysis is a test hook added with
// page.addInitScript (it wraps RTCPeerConnection); the product page has none.
// Prints one JSON line {"ok":true,...} at the end; exits non-zero with the failing step.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
const wav = process.env.TONE_WAV;
if (!base || !shots || !wav) {
  console.error("usage: TONE_WAV=FILE node softphone.mjs BASE_URL SCREENSHOT_DIR");
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

// Test hook: every peer connection's remote audio track is read (behind a muted <audio>
// sink, without which Chromium yields no frames) into the last 3 s of samples.
function tap() {
  const Native = window.RTCPeerConnection;
  const heard = { rate: 0, samples: [], frames: 0 };
  window.__heard = heard;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("track", (e) => read(e.track));
    }
  };
  async function read(track) {
    const sink = document.createElement("audio");
    sink.muted = true;
    sink.srcObject = new MediaStream([track]);
    document.body.append(sink);
    sink.play().catch(() => {});
    heard.samples = [];
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const f = new Float32Array(value.numberOfFrames);
      value.copyTo(f, { planeIndex: 0, format: "f32-planar" });
      heard.rate = value.sampleRate;
      heard.frames++;
      value.close();
      for (const x of f) heard.samples.push(x);
      const keep = heard.rate * 3;
      if (heard.samples.length > keep) heard.samples.splice(0, heard.samples.length - keep);
    }
  }
  // Goertzel power at each frequency over the last second, normalised by its length.
  window.__powers = (freqs) => {
    const n = Math.min(heard.samples.length, heard.rate);
    const x = heard.samples.slice(heard.samples.length - n);
    const out = {};
    for (const f of freqs) {
      const k = 2 * Math.cos((2 * Math.PI * f) / heard.rate);
      let s1 = 0, s2 = 0;
      for (const v of x) { const s0 = v + k * s1 - s2; s2 = s1; s1 = s0; }
      out[f] = (s1 * s1 + s2 * s2 - k * s1 * s2) / (n || 1);
    }
    return { rate: heard.rate, frames: heard.frames, n, powers: out };
  };
}

// The page hears `freq` at least 100 times louder than each of `others`.
async function expectHears(desk, freq, others, what) {
  await desk.waitForTimeout(2500);
  const r = await desk.evaluate((f) => window.__powers(f), [freq, ...others]);
  console.error(`${what}: ${JSON.stringify(r)}`);
  if (r.n < r.rate / 2 || !r.rate) fail(`${what}: the page got too little audio: ${JSON.stringify(r)}`);
  for (const o of others) {
    if (!(r.powers[freq] > 100 * r.powers[o])) fail(`${what}: ${freq} Hz should dominate ${o} Hz: ${JSON.stringify(r.powers)}`);
  }
  return r;
}

async function answerOffer(desk, caller) {
  const offer = desk.getByRole("dialog", { name: "Incoming call" });
  await offer.waitFor({ timeout: 40_000 });
  await expectText(offer.locator("#offer-customer"), new RegExp(`^${caller}$`), "the pop-up's caller");
  // The queue by its name (agent 1001 is in no team, so has no snapshot of the queue).
  await expectText(offer.locator("#offer-queue"), /^Sales \(8000\)$/, "the pop-up's queue");
  const answer = offer.getByRole("button", { name: "Answer", exact: true });
  await answer.waitFor({ timeout: TIMEOUT });
  await expectCall(desk, "Ringing");
  await answer.click(); // one click: the pop-up answers the browser phone
  await offer.waitFor({ state: "hidden", timeout: TIMEOUT });
  await expectCall(desk, "Talking");
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
    await context.addInitScript(tap);
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

    step("a queue call: answered in the pop-up, each side hears the other");
    await answerOffer(desk, "5550301");
    const pane = desk.getByRole("article", { name: "Call with 5550301" });
    await pane.waitFor({ timeout: TIMEOUT });
    await expectText(pane.getByRole("status", { name: "Call state" }), /^Talking$/, "call pane");
    await expectText(pane.getByRole("list", { name: "Parties" }), /You \(1001\)/, "the call's parties");
    await expectState(desk, "Busy");
    if (await desk.locator("#ready").isEnabled()) fail("Ready must not be offered while Busy");
    result.inbound = await expectHears(desk, 400, [1000, 697], "the agent hears the caller");
    await shot(desk, "talking");
    signal("heard");

    step("mute: the caller's tone from the agent vanishes; unmute");
    await until("mute");
    await strip(desk).getByRole("button", { name: "Mute", exact: true }).click();
    await strip(desk).getByRole("button", { name: "Unmute", exact: true }).waitFor({ timeout: TIMEOUT });
    await shot(desk, "muted");
    signal("muted");
    await until("unmute");
    await strip(desk).getByRole("button", { name: "Unmute", exact: true }).click();
    await strip(desk).getByRole("button", { name: "Mute", exact: true }).waitFor({ timeout: TIMEOUT });

    step("the keypad sends 1, 2, # to the call");
    for (const k of ["1", "2", "#"]) {
      await desk.getByRole("button", { name: `Key ${k}` }).click();
      await expectText(desk.locator("#dial-status"), new RegExp(`^Sent ${k}$`), "keypad");
    }
    if (await desk.getByLabel("Number to call").inputValue()) fail("in a call the keypad must not type into the number");
    await shot(desk, "keypad");

    step("hold in the call pane: the caller hears music; retrieve: tones again");
    await pane.getByRole("button", { name: "Hold", exact: true }).click();
    await expectText(pane.getByRole("status", { name: "Call state" }), /^On hold$/, "call pane");
    // The Phone card follows: On hold, its Hold button now Retrieve.
    await expectCall(desk, "On hold");
    await strip(desk).getByRole("button", { name: "Retrieve", exact: true }).waitFor({ timeout: TIMEOUT });
    if (await strip(desk).getByRole("button", { name: "Hold", exact: true }).isVisible()) fail("held, the Phone card must not offer Hold");
    await shot(desk, "held");
    signal("held");
    await until("retrieve");
    // Retrieved from the Phone card: the call pane follows.
    await strip(desk).getByRole("button", { name: "Retrieve", exact: true }).click();
    await expectText(pane.getByRole("status", { name: "Call state" }), /^Talking$/, "call pane");
    await expectCall(desk, "Talking");
    await strip(desk).getByRole("button", { name: "Hold", exact: true }).waitFor({ timeout: TIMEOUT });
    result.retrieved = await expectHears(desk, 400, [1000, 697], "the agent hears the caller after retrieve");
    signal("retrieved");
    await until("hangup");

    step("the agent hangs up in the browser");
    await strip(desk).getByRole("button", { name: "Hang up", exact: true }).click();
    await strip(desk).waitFor({ state: "hidden", timeout: TIMEOUT });
    await expectText(desk.locator("#dial-status"), /You hung up/, "phone status");
    await expectText(pane.getByRole("status", { name: "Call state" }), /^Ended$/, "call pane");
    await shot(desk, "hung-up");
    signal("hung-up");

    step("a second caller hangs up first");
    await expectState(desk, "Ready");
    await answerOffer(desk, "5550302");
    await desk.getByRole("article", { name: "Call with 5550302" }).waitFor({ timeout: TIMEOUT });
    await strip(desk).waitFor({ state: "hidden", timeout: 40_000 });
    await expectText(desk.locator("#dial-status"), /The other party hung up/, "phone status");
    await shot(desk, "caller-hung-up");

    step("the agent calls 3000 from the dial pad and hears it");
    await desk.getByRole("button", { name: "Not Ready", exact: true }).click();
    await expectState(desk, "Not Ready");
    for (const k of ["3", "0", "0", "0"]) await desk.getByRole("button", { name: `Key ${k}` }).click();
    await desk.getByRole("button", { name: "Call", exact: true }).click();
    await strip(desk).waitFor({ timeout: TIMEOUT });
    await expectCall(desk, "Talking");
    result.outbound = await expectHears(desk, 660, [1000, 400], "the agent hears 3000");
    await shot(desk, "outgoing-talking");
    signal("out-talking");
    await until("out-hangup");
    await strip(desk).getByRole("button", { name: "Hang up", exact: true }).click();
    await strip(desk).waitFor({ state: "hidden", timeout: TIMEOUT });
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
