import { test, expect } from "@playwright/test";

test("the share row copies the campaign's address and offers its flyer QR code", async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  const page = await context.newPage();
  await page.goto("/c/joint-statement-demo");
  const address = `${baseURL}/c/joint-statement-demo`;
  await expect(page.getByLabel("Link to this campaign")).toHaveValue(address);
  const copy = page.getByRole("button", { name: "Copy link" });
  // The island hydrates, then the button copies.
  await expect(async () => {
    await copy.click();
    await expect(page.getByRole("button", { name: "Link copied" })).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(address);

  const whatsapp = await page.getByRole("link", { name: "WhatsApp" }).getAttribute("href");
  expect(decodeURIComponent(whatsapp!.split("text=")[1])).toContain(address);
  const qr = await page.request.get(
    (await page.getByRole("link", { name: "QR code for flyers" }).getAttribute("href"))!,
  );
  expect(qr.status()).toBe(200);
  expect(qr.headers()["content-type"]).toBe("image/svg+xml");
  await context.close();
});
