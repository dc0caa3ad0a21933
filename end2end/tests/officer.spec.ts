import * as fs from "node:fs";
import { test, expect, Page } from "@playwright/test";
import { admin } from "../playwright.config";
import { enrol, signInAndEnrol } from "./account";
import { linkFromMail } from "./mail";
import { confirmFromMail, signOnPage } from "./signer";

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
  await signOnPage(member, "joint-statement-demo", { given: "Lucy", family: "Parsons", email: memberEmail, local: { value: localId } });
  await confirmFromMail(member, memberEmail);
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

  // Recovery codes and an API key for the local, each shown once on the account page.
  await page.goto("/account");
  const recovery = page.getByTestId("recovery");
  await expect(recovery).toHaveAttribute("data-ready", "true");
  await recovery.getByRole("button", { name: "Make ten new recovery codes" }).click();
  await expect(page.getByTestId("recovery-codes").locator("li")).toHaveCount(10);
  const keys = page.getByTestId("api-keys");
  await expect(keys).toHaveAttribute("data-ready", "true");
  await keys.getByLabel("What it is for").fill("the local's spreadsheet");
  await keys.getByRole("button", { name: "Make a key" }).click();
  const key = (await page.getByTestId("api-key").innerText()).trim();
  // The key alone, with no session cookie, exports the local's signers.
  const origin = new URL(page.url()).origin;
  const exported = await fetch(`${origin}/api/v1/campaigns/joint-statement-demo/signatures.csv`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  expect(exported.status).toBe(200);
  expect(await exported.text()).toContain(memberEmail);
  await page.reload();
  await expect(page.getByTestId("recovery")).toBeVisible();
  await expect(page.getByTestId("recovery-codes")).toHaveCount(0);
  await expect(page.getByTestId("api-key")).toHaveCount(0);
  await context.close();
});
