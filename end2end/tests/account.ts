import { expect, type Page } from "@playwright/test";
import { Secret, TOTP } from "otpauth";

/** The code an authenticator app shows for `secret` now. */
export function code(secret: string): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate();
}

/** Sets up the authenticator app on the page a first sign-in lands on. */
export async function enrol(page: Page) {
  await expect(page).toHaveURL(/\/account\/two-factor$/);
  const secret = (await page.getByTestId("totp-secret").innerText()).trim();
  await page.getByLabel("The 6-digit code your app now shows").fill(code(secret));
  await page.getByRole("button", { name: "Turn it on" }).click();
  await expect(page).toHaveURL(/\/account$/);
}

/** Signs in for the first time and sets up the authenticator app. */
export async function signInAndEnrol(page: Page, email: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await enrol(page);
}
