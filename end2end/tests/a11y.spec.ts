import * as fs from "node:fs";
import { test, expect, Page } from "@playwright/test";
import { admin } from "../playwright.config";
import { enrol } from "./account";
import { linkFromMail } from "./mail";
import { asPartner } from "./signer";

const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Runs axe-core (WCAG 2.1 A and AA rules) on the page; the serious and critical
 * violations, each with the elements it found. */
async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // @ts-expect-error axe is the script just added
    const run = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return run.violations
      .filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical")
      .map((v: { id: string; help: string; nodes: { target: string[] }[] }) =>
        `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
      );
  });
  return result;
}

for (const [name, path] of [
  ["the campaign page", "/c/joint-statement-demo"],
  ["a pledge's page", "/c/walkout-e2e"],
  ["the embed", "/embed/joint-statement-demo"],
  ["the sign-in page", "/sign-in"],
  ["the front page", "/"],
]) {
  test(`${name} has no serious or critical accessibility violations`, async ({ browser }) => {
    // The page's own policy refuses inline scripts: the test's axe is let in by the browser.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(path);
    expect(await violations(page)).toEqual([]);
    await context.close();
  });
}

test("the confirm page has no serious or critical accessibility violations", async ({ browser, request }) => {
  const email = `axe-${Date.now()}@example.org`;
  const local = (await (await request.get("/api/v1/campaigns/joint-statement-demo")).json()).locals[0].id;
  const signed = await request.post("/api/v1/campaigns/joint-statement-demo/signatures", {
    headers: asPartner(),
    data: { given_name: "Ada", family_name: "Axe", email, local_id: local },
  });
  expect(signed.status()).toBe(202);
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(await linkFromMail(email, "/v/"));
  await expect(page.getByRole("button", { name: "Confirm my signature" })).toBeVisible();
  expect(await violations(page)).toEqual([]);
  await context.close();
});

test("the signed-in pages have no serious or critical accessibility violations", async ({ browser, request }) => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(`a11y-${admin.email}`);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/account\/two-factor$/);
  expect(await violations(page), "/account/two-factor").toEqual([]);
  await enrol(page);
  const local = (await (await request.get("/api/v1/campaigns/walkout-e2e")).json()).locals[0].id;
  const paths = [
    "/account",
    "/account/c/joint-statement-demo",
    "/account/c/walkout-e2e",
    "/account/c/joint-statement-demo/edit",
    "/account/new-campaign",
    "/admin/locals",
    `/local/${local}`,
    `/local/${local}/verify/walkout-e2e`,
  ];
  const englishTitles = new Map<string, string>();
  for (const path of paths) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    englishTitles.set(path, await page.title());
    expect(await violations(page), path).toEqual([]);
  }
  // The same pages in Spanish, once the officer picks it in the header.
  await page.goto("/account");
  await page.getByRole("navigation", { name: "Language" }).getByRole("link", { name: "Español" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Su cuenta");
  for (const path of paths) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    await expect(page.locator("html"), path).toHaveAttribute("lang", "es");
    // A campaign's dashboard is titled with the campaign's own name; the others by the page.
    if (!path.startsWith("/account/c/")) {
      expect(await page.title(), `${path} is titled in Spanish`).not.toBe(englishTitles.get(path));
    }
    expect(await violations(page), path).toEqual([]);
  }
  await context.close();
});

test("the check itself finds a field without a label", async ({ browser }) => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.evaluate(() => document.querySelector("main")!.append(document.createElement("input")));
  expect((await violations(page)).join("\n")).toContain("label");
  await context.close();
});

test("the campaign page fits a 320 px phone without scrolling sideways", async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 320, height: 640 } });
  for (const path of ["/c/joint-statement-demo", "/c/walkout-e2e", "/"]) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
});
