import * as fs from "node:fs";
import { test, expect, Page } from "@playwright/test";
import { admin } from "../playwright.config";
import { enrol, signInAndEnrol } from "./account";
import { linkFromMail } from "./mail";

async function confirmed(page: Page): Promise<number> {
  return Number(await page.getByTestId("progress-joint-statement-demo").getByTestId("confirmed").innerText());
}

test("an admin invites an officer, who keeps the member count, watches the share, enters paper and exports", async ({
  browser,
}) => {
  const officerEmail = `officer-${Date.now()}@example.org`;

  // The admin signs in, sets up their app, and invites an officer of one local.
  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signInAndEnrol(adminPage, admin.email, admin.password);
  await adminPage.locator("#invite-email").fill(officerEmail);
  const role = adminPage.locator("#invite-role");
  // The last local in the list: no other spec signs for it.
  const officerOf = role.locator("option", { hasText: "Officer of" }).last();
  const localValue = (await officerOf.getAttribute("value"))!;
  const localId = localValue.replace("local:", "");
  await role.selectOption(localValue);
  await adminPage.getByRole("button", { name: "Send the invitation" }).click();
  await expect(adminPage).toHaveURL(/invited=1/);
  await adminContext.close();

  // The officer accepts from the mail and sets up their own app.
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(await linkFromMail(officerEmail, "/invite/"));
  await page.getByLabel("Password (at least 12 characters)").fill("the officer's own password");
  await page.getByRole("button", { name: "Continue" }).click();
  await enrol(page);
  await page.getByTestId("locals").getByRole("link").first().click();
  await expect(page).toHaveURL(new RegExp(`/local/${localId}$`));

  // The member count, then the share as a member of the local signs and confirms.
  await page.getByLabel("Members").fill("4");
  await page.getByRole("button", { name: "Save the member count" }).click();
  await expect(page.getByTestId("member-count")).toContainText("4 (as of");
  const before = await confirmed(page);

  const member = await browser.newPage();
  const memberEmail = `member-${Date.now()}@example.org`;
  await member.goto("/c/joint-statement-demo");
  const openedAt = Date.now();
  await member.getByLabel("Given name").fill("Lucy");
  await member.getByLabel("Family name").fill("Parsons");
  await member.getByLabel("Email").fill(memberEmail);
  await member.locator("#local").selectOption(localId);
  await member.waitForTimeout(Math.max(0, 2_500 - (Date.now() - openedAt)));
  await member.getByRole("button", { name: "Sign" }).click();
  await expect(member).toHaveURL(/\/thanks$/);
  await member.goto(await linkFromMail(memberEmail, "/v/"));
  await member.getByRole("button", { name: "Confirm my signature" }).click();
  await expect(member).toHaveURL(/\/confirmed$/);
  await member.close();

  await page.reload();
  expect(await confirmed(page)).toBe(before + 1);
  await expect(page.getByTestId("progress-joint-statement-demo").getByTestId("share")).toHaveText(
    `${Math.round(((before + 1) / 4) * 100)}%`,
  );
  await expect(page.getByTestId("progress-joint-statement-demo")).toContainText("Lucy Parsons");

  // A paper signature, counted and shown as such.
  await page.locator("#paper-campaign").selectOption("joint-statement-demo");
  await page.getByLabel("Given name").fill("Ben");
  await page.getByLabel("Family name").fill("Fletcher");
  await page.getByRole("button", { name: "Enter this signature" }).click();
  await expect(page.getByTestId("entered")).toContainText("1 paper signature entered");
  expect(await confirmed(page)).toBe(before + 2);
  await expect(page.getByTestId("progress-joint-statement-demo")).toContainText("Ben Fletcher (paper)");

  // The local's CSV, with both.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("progress-joint-statement-demo").getByRole("link", { name: /Download/ }).click(),
  ]);
  const csv = fs.readFileSync((await download.path())!, "utf8");
  expect(csv).toContain(memberEmail);
  expect(csv).toContain("Fletcher");
  expect(csv).toContain("paper, entered by user:");
  await context.close();
});
