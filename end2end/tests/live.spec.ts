import { test, expect } from "@playwright/test";
import { linkFromMail } from "./mail";

const campaign = "/c/joint-statement-demo";

test("a signature confirmed in one page moves the count in another without reload", async ({ browser, request }) => {
  const watcher = await (await browser.newContext()).newPage();
  await watcher.goto(campaign);
  await expect(watcher.locator(".local-filter[data-ready]")).toBeAttached();
  const before = Number((await watcher.getByTestId("tally-total").innerText()).replace(/[^0-9]/g, ""));

  const email = `watch-${Date.now()}@example.org`;
  const locals = await (await request.get(`/api/v1/campaigns/joint-statement-demo`)).json();
  const signed = await request.post(`/api/v1/campaigns/joint-statement-demo/signatures`, {
    data: { given_name: "Joe", family_name: "Hill", email, local_id: locals.locals[0].id },
  });
  expect(signed.status()).toBe(202);

  const signer = await (await browser.newContext()).newPage();
  await signer.goto(await linkFromMail(email, "/v/"));
  await signer.getByRole("button", { name: "Confirm my signature" }).click();
  await expect(signer).toHaveURL(/\/confirmed$/);

  await expect(watcher.getByTestId("tally-total")).toHaveText(String(before + 1), { timeout: 5_000 });
});
