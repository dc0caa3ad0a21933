import { test, expect } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { linkFromMail } from "./mail";
import { signAndConfirm } from "./signer";

const campaign = "/c/joint-statement-demo";
const figuresFile = path.resolve(__dirname, "..", ".e2e", "figures.json");

/** Adds measured figures to .e2e/figures.json, for the notes and BENCHMARKS.md. */
function record(name: string, value: unknown) {
  const figures = fs.existsSync(figuresFile) ? JSON.parse(fs.readFileSync(figuresFile, "utf8")) : {};
  figures[name] = value;
  fs.writeFileSync(figuresFile, JSON.stringify(figures, null, 2));
  console.log(name, JSON.stringify(value));
}

// Chromium DevTools' "Slow 3G": 400 ms × 5 of latency, 500 kbit/s × 0.8 each way.
const slow3g = { offline: false, latency: 2000, downloadThroughput: (500 * 1000) / 8 * 0.8, uploadThroughput: (500 * 1000) / 8 * 0.8 };

test("the campaign page's first load, compressed, stays within its budget", async ({ browser }) => {
  const context = await browser.newContext({ extraHTTPHeaders: { "Accept-Encoding": "gzip, deflate, br" } });
  const page = await context.newPage();
  const parts: { url: string; kind: string; bytes: number }[] = [];
  page.on("requestfinished", async (request) => {
    const url = new URL(request.url());
    // The live stream never ends: it is not part of a load.
    if (url.pathname.endsWith("/tally/stream")) return;
    const sizes = await request.sizes();
    const kind = request.resourceType() === "document" ? "html"
      : url.pathname.endsWith(".css") ? "css"
      : url.pathname.endsWith(".wasm") ? "wasm"
      : url.pathname.endsWith(".js") ? "js" : "other";
    parts.push({ url: url.pathname, kind, bytes: sizes.responseBodySize + sizes.responseHeadersSize });
  });
  await page.goto(campaign);
  // Loaded: the islands have hydrated and the stream is open.
  await expect(page.locator(".live-tally[data-live]")).toBeAttached();
  await expect(page.locator(".local-filter[data-ready]")).toBeAttached();
  await expect.poll(() => parts.some((part) => part.kind === "wasm")).toBe(true);
  const sum = (kinds: string[]) => parts.filter((part) => kinds.includes(part.kind)).reduce((total, part) => total + part.bytes, 0);
  const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
  const figures = {
    html: kb(sum(["html"])), css: kb(sum(["css"])), js: kb(sum(["js"])), wasm: kb(sum(["wasm"])), other: kb(sum(["other"])),
    total: kb(sum(["html", "css", "js", "wasm", "other"])),
    requests: parts.map((part) => `${part.kind} ${part.url} ${part.bytes}`),
  };
  record("first_load_kib", figures);
  expect(figures.html + figures.css, "HTML and CSS, compressed, in KiB").toBeLessThan(30);
  expect(figures.total, "the whole first load, compressed, in KiB").toBeLessThan(250);
  // Hashed names are cached for good, one copy per encoding.
  const wasm = await page.request.get(parts.find((part) => part.kind === "wasm")!.url);
  expect(wasm.headers()["cache-control"]).toContain("immutable");
  expect(wasm.headers()["vary"]).toContain("accept-encoding");
  await context.close();
});

test("on Slow 3G with the wasm blocked, the form is filled and submitted", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route("**/*.wasm", (route) => route.abort());
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", slow3g);

  const email = `slow-${Date.now()}@example.org`;
  const start = Date.now();
  let submittedAt = 0;
  page.on("request", (request) => {
    if (request.method() === "POST" && !submittedAt) submittedAt = Date.now() - start;
  });
  await page.goto(campaign, { waitUntil: "commit", timeout: 30_000 });
  await page.getByLabel("Given name").fill("Dolores");
  const fillable = Date.now() - start;
  await page.getByLabel("Family name").fill("Huerta");
  await page.getByLabel("Email").fill(email);
  const firstLocal = await page.locator("#local option[value]:not([value=''])").first().getAttribute("value");
  await page.locator("#local").selectOption(firstLocal!);
  await page.getByRole("button", { name: "Sign" }).click();
  await expect(page).toHaveURL(/\/thanks$/, { timeout: 30_000 });
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  record("slow_3g_wasm_blocked_ms", { form_fillable: fillable, submitted: submittedAt, thanks_shown: Date.now() - start });
  // Taken, not dropped as a script's: the confirmation mail is on its way.
  await linkFromMail(email, "/v/");
  await context.close();
});

test("the tally moves without shifting the page", async ({ browser, request }) => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(campaign);
  await expect(page.locator(".live-tally[data-live]")).toBeAttached();
  await page.evaluate(() => {
    (window as any).shifts = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as any[]) if (!entry.hadRecentInput) (window as any).shifts += entry.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
  const total = page.getByTestId("tally-total");
  const before = Number((await total.innerText()).replace(/[^0-9]/g, ""));
  // Watched from the top (the count) and from the breakdown, as a reader scrolls.
  await signAndConfirm(browser, request, `cls-a-${Date.now()}@example.org`);
  await expect(total).toHaveText(String(before + 1), { timeout: 5_000 });
  await page.locator("#breakdown").scrollIntoViewIfNeeded();
  await signAndConfirm(browser, request, `cls-b-${Date.now()}@example.org`);
  await expect(total).toHaveText(String(before + 2), { timeout: 5_000 });
  const cls = await page.evaluate(() => (window as any).shifts as number);
  record("cumulative_layout_shift", cls);
  expect(cls).toBeLessThan(0.01);
  await page.close();
});
