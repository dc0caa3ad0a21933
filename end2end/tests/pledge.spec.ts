import { test, expect, Page } from "@playwright/test";
import { signInAndEnrol } from "./account";
import { admin } from "../playwright.config";
import { mailsTo } from "./mail";
import { confirmFromMail, signOnPage } from "./signer";

const slug = "walkout-e2e";

/** Signs the pledge in Local 999 from the campaign page and confirms, as a member's phone does. */
async function pledge(page: Page, given: string, email: string) {
  await signOnPage(page, slug, { given, family: "Rivera", email, local: { label: "UTW Local 999 (Testville, PA)" } });
  await confirmFromMail(page, email);
}

test("pledges in a small local reach its share, open pages see it live, and the organizer's release reaches every pledger", async ({
  browser,
}) => {
  // The local's row moves on the campaign's one-minute cadence, not with each pledge.
  test.setTimeout(240_000);
  const nextTick = { timeout: 75_000 };
  // Two people watching the campaign before anyone pledges.
  const watchers = [await browser.newPage(), await browser.newPage()];
  for (const page of watchers) {
    await page.goto(`/c/${slug}`);
    await expect(page.getByTestId("pledge-state")).toHaveAttribute("data-state", "gathering");
    await expect(page.getByTestId("pledge-rule")).toContainText("60% of its members");
    // The island follows the live stream once hydrated: `data-live` says it is connected.
    await expect(page.locator(".live-tally")).toHaveAttribute("data-live", "true");
  }

  // Two of Local 999's three members pledge: 60% of 3 rounds up to 2.
  const stamp = Date.now();
  const pledgers = [`ana-${stamp}@example.org`, `luis-${stamp}@example.org`];
  const member = await browser.newPage();
  await pledge(member, "Ana", pledgers[0]);
  for (const page of watchers) {
    await expect(page.locator("#breakdown-body tr", { hasText: "Local 999" }).locator(".pledge")).toHaveText("1 of 2 needed", nextTick);
  }
  await pledge(member, "Luis", pledgers[1]);

  // Both open pages turn to "reached" by themselves, the local and the pledge.
  for (const page of watchers) {
    const row = page.locator("#breakdown-body tr", { hasText: "Local 999" });
    await expect(row.locator(".pledge")).toHaveText("Reached", nextTick);
    await expect(page.getByTestId("pledge-state")).toHaveAttribute("data-state", "reached");
  }

  // Nothing is sent until the organizer releases it.
  expect(mailsTo(pledgers[0], "News about your pledge")).toHaveLength(0);
  const organizer = await browser.newPage();
  await signInAndEnrol(organizer, `organizer-${admin.email}`, admin.password);

  await organizer.goto(`/account/c/${slug}`);
  await expect(organizer.getByTestId("pledge-state")).toContainText("Reached");
  const local = organizer.locator("li", { hasText: "Threshold reached: UTW Local 999" });
  await expect(local.getByRole("textbox")).toHaveValue(/we walk out on Monday at 6/);
  await local.getByRole("textbox").fill("Two of three have pledged: we walk out on Monday at 6. Bring water.");
  await local.getByRole("button", { name: "Release" }).click();
  await expect(organizer).toHaveURL(/released=1/);
  await expect(organizer.getByTestId("released")).toBeVisible();

  // Each pledger gets the organizer's words once.
  for (const email of pledgers) {
    await expect.poll(() => mailsTo(email, "News about your pledge").length, { timeout: 20_000 }).toBe(1);
    expect(mailsTo(email, "News about your pledge")[0]).toContain("Bring water.");
  }
});
