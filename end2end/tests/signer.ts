import { expect, type APIRequestContext, type Browser } from "@playwright/test";
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
