import { test, expect, Page } from "@playwright/test";
import { linkFromMail } from "./mail";
import { atHumanPace } from "./signer";

const campaign = "/c/joint-statement-demo";

async function total(page: Page): Promise<number> {
  const text = await page.getByTestId("tally-total").innerText();
  return Number(text.replace(/[^0-9]/g, ""));
}


async function signAndConfirm(page: Page, email: string) {
  await page.goto(campaign);
  const openedAt = Date.now();
  const before = await total(page);
  await page.getByLabel("Given name").fill("Rosa");
  await page.getByLabel("Family name").fill("Parks");
  await page.getByLabel("Email").fill(email);
  const firstLocal = await page.locator("#local option[value]:not([value=''])").first().getAttribute("value");
  await page.locator("#local").selectOption(firstLocal!);
  await atHumanPace(page, openedAt);
  await page.getByRole("button", { name: "Sign" }).click();

  await expect(page).toHaveURL(/\/thanks$/);
  await expect(page.getByRole("heading", { name: "Check your email" })).toBeVisible();
  expect(page.url()).not.toContain(encodeURIComponent(email));

  const link = await linkFromMail(email, "/v/");
  await page.goto(link);
  await expect(page.getByText("Rosa Parks")).toBeVisible();
  await page.getByRole("button", { name: "Confirm my signature" }).click();
  await expect(page).toHaveURL(/\/confirmed$/);
  await expect(page.getByRole("heading", { name: "Your signature is confirmed" })).toBeVisible();

  // The page draws the tally as the hub last published it: a window of at most 250 ms.
  await expect(async () => {
    await page.goto(campaign);
    expect(await total(page)).toBe(before + 1);
  }).toPass({ timeout: 5_000 });
}

test("a member signs, confirms from the mail, and the tally moves", async ({ page }) => {
  await signAndConfirm(page, `rosa+${Date.now()}@example.org`);
});

test("the same works with JavaScript turned off", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signAndConfirm(page, `rosa-nojs-${Date.now()}@example.org`);
  await context.close();
});

test("the form checks a field in the browser with the server's rules", async ({ page }) => {
  await page.goto(campaign);
  await expect(page.locator(".local-filter[data-ready]")).toBeAttached();
  await page.getByLabel("Find your local").fill("zzzz-no-such-local");
  await expect(page.locator("#local option[value]:not([value='']):not([hidden])")).toHaveCount(1);
  await page.getByLabel("Find your local").fill("");
  expect(await page.locator("#local option[value]:not([hidden])").count()).toBeGreaterThan(100);
  await page.getByLabel("Email").fill("not-an-address");
  await page.getByLabel("Family name").focus();
  await expect(page.locator("#email-error")).toHaveText("That email address doesn't look right.");
});

test("without JavaScript a bad field comes back with its message", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(campaign);
  await page.getByLabel("Given name").fill("Rosa");
  await page.getByLabel("Family name").fill("Parks");
  await page.getByLabel("Email").fill("rosa@nowhere");
  const firstLocal = await page.locator("#local option[value]:not([value=''])").first().getAttribute("value");
  await page.locator("#local").selectOption(firstLocal!);
  await page.getByRole("button", { name: "Sign" }).click();
  await expect(page.locator("#email-error")).toHaveText("That email address doesn't look right.");
  expect(page.url()).not.toContain("nowhere");
  await context.close();
});
