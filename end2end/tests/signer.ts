import { expect, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import * as fs from "node:fs";
import { linkFromMail } from "./mail";
import { partnerKeyFile } from "../playwright.config";

/** The headers a partner site signs through the JSON API with. */
export function asPartner(): Record<string, string> {
  return { Authorization: `Bearer ${fs.readFileSync(partnerKeyFile, "utf8").trim()}` };
}

/** Signs `slug` through the API and confirms in a fresh browser context, as the signer would. */
export async function signAndConfirm(browser: Browser, request: APIRequestContext, email: string, slug = "joint-statement-demo") {
  const locals = await (await request.get(`/api/v1/campaigns/${slug}`)).json();
  const signed = await request.post(`/api/v1/campaigns/${slug}/signatures`, {
    headers: asPartner(),
    data: { given_name: "Joe", family_name: "Hill", email, local_id: locals.locals[0].id },
  });
  expect(signed.status()).toBe(202);
  const context = await browser.newContext();
  const signer = await context.newPage();
  await signer.goto(await linkFromMail(email, "/v/"));
  await signer.getByRole("button", { name: "Confirm my signature" }).click();
  await expect(signer).toHaveURL(/\/confirmed$/);
  await context.close();
}

/** A person takes a few seconds to fill the form; the server drops a form sent sooner
 * than its minimum (`form_min_seconds`, 2 s) after it was shown as a script's. Elapsed
 * time is the rule under test here, so this waits for time itself, in this one place. */
export async function atHumanPace(page: Page, openedAt: number) {
  await page.waitForTimeout(Math.max(0, 2_500 - (Date.now() - openedAt)));
}

/** Who signs on a campaign page, and for which local (its value, or its label). */
export interface Signer {
  given: string;
  family: string;
  email: string;
  local: { value: string } | { label: string } | "first";
}

/** Fills the sign form on `/c/{slug}` as a member's phone does, sends it at a human pace
 * and confirms from the mail's link: the one sign-and-confirm of the page-driven tests. */
export async function signOnPage(page: Page, slug: string, who: Signer) {
  await page.goto(`/c/${slug}`);
  const openedAt = Date.now();
  await page.getByLabel("Given name").fill(who.given);
  await page.getByLabel("Family name").fill(who.family);
  await page.getByLabel("Email").fill(who.email);
  const local =
    who.local === "first"
      ? (await page.locator("#local option[value]:not([value=''])").first().getAttribute("value"))!
      : who.local;
  await page.locator("#local").selectOption(local);
  await atHumanPace(page, openedAt);
  await page.getByRole("button", { name: "Sign" }).click();
  await expect(page).toHaveURL(/\/thanks$/);
}

/** Presses the confirm button behind the link mailed to `email`. */
export async function confirmFromMail(page: Page, email: string) {
  await page.goto(await linkFromMail(email, "/v/"));
  await page.getByRole("button", { name: "Confirm my signature" }).click();
  await expect(page).toHaveURL(/\/confirmed$/);
}
