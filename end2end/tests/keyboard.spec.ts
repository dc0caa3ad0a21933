import { test, expect, Page } from "@playwright/test";
import { atHumanPace } from "./signer";
import { linkFromMail } from "./mail";

/** Presses Tab until the element with `label` has the focus (at most `limit` times), as
 * a person without a mouse moves through the page; fails if it never gets there. */
async function tabTo(page: Page, accessibleName: RegExp, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const name = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return "";
      const labelled = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
      return (labelled ?? el.getAttribute("aria-label") ?? el.textContent ?? "").trim();
    });
    if (accessibleName.test(name)) {
      // The focus can be seen: the page draws an outline around it.
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      expect(outline, `the focus on "${name}" is visible`).not.toBe("none");
      return;
    }
  }
  throw new Error(`Tab never reached ${accessibleName}`);
}

test("a member signs and confirms with the keyboard alone", async ({ page }) => {
  const email = `keys-${Date.now()}@example.org`;
  await page.goto("/c/joint-statement-demo");
  const openedAt = Date.now();
  await tabTo(page, /^Given name/);
  await page.keyboard.type("Emma");
  await tabTo(page, /^Family name/, 3);
  await page.keyboard.type("Tenayuca");
  await tabTo(page, /^Email/, 3);
  await page.keyboard.type(email);
  await tabTo(page, /^Your union and local/, 6);
  // The first local, chosen with the arrow key as a select lets a keyboard do.
  await page.keyboard.press("ArrowDown");
  await expect(page.locator("#local")).not.toHaveValue("");
  await atHumanPace(page, openedAt);
  await tabTo(page, /^Sign$/, 12);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/thanks$/);

  await page.goto(await linkFromMail(email, "/v/"));
  await tabTo(page, /^Confirm my signature$/);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/confirmed$/);
});
