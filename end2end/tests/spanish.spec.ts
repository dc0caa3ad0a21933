import { test, expect } from "@playwright/test";
import { atHumanPace } from "./signer";
import { linkFromMail, mailsTo } from "./mail";

const campaign = "/c/joint-statement-demo";

// A phone set to Spanish: its browser asks for Spanish in every request.
test.use({ locale: "es-MX" });

test("a member whose browser reads Spanish signs and confirms in Spanish, mails included", async ({ page }) => {
  const email = `lucia+${Date.now()}@example.org`;
  await page.goto(campaign);
  const openedAt = Date.now();
  await expect(page.locator("html")).toHaveAttribute("lang", "es");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Personal suficiente y libertad para organizarnos");
  await expect(page.locator(".local-filter[data-ready]")).toBeAttached();

  // The browser checks a field with the server's rules, and says so in Spanish.
  await page.getByLabel("Correo electrónico", { exact: true }).fill("no-es-una-direccion");
  await page.getByLabel("Apellido", { exact: true }).focus();
  await expect(page.locator("#email-error")).toHaveText("Esa dirección de correo no parece correcta.");

  await page.getByLabel("Nombre", { exact: true }).fill("Lucía");
  await page.getByLabel("Apellido", { exact: true }).fill("Hernández");
  await page.getByLabel("Correo electrónico", { exact: true }).fill(email);
  const firstLocal = await page.locator("#local option[value]:not([value=''])").first().getAttribute("value");
  await page.getByLabel("Su sindicato y local").selectOption(firstLocal!);
  await atHumanPace(page, openedAt);
  await page.getByRole("button", { name: "Firmar" }).click();

  await expect(page).toHaveURL(/\/thanks$/);
  await expect(page.getByRole("heading", { name: "Revise su correo" })).toBeVisible();

  const link = await linkFromMail(email, "/v/");
  const ask = mailsTo(email, "Confirme su firma");
  expect(ask).toHaveLength(1);
  expect(ask[0]).toContain("Hola:");
  expect(ask[0], "the mail carries nothing the form was given").not.toContain("Lucía");
  expect(ask[0]).toContain("Su firma cuenta cuando la confirme");

  await page.goto(link);
  await expect(page.getByText("Lucía Hernández")).toBeVisible();
  await page.getByRole("button", { name: "Confirmar mi firma" }).click();
  await expect(page).toHaveURL(/\/confirmed$/);
  await expect(page.getByRole("heading", { name: "Su firma está confirmada" })).toBeVisible();
  await expect(page.getByText("firmas confirmadas").first()).toBeVisible();

  // The receipt, in Spanish, with the text that was signed.
  await expect
    .poll(() => mailsTo(email, "").filter((mail) => mail.includes("Puede retirar su firma")).length, { timeout: 20_000 })
    .toBe(1);
  const receipt = mailsTo(email, "").find((mail) => mail.includes("Puede retirar su firma"))!;
  expect(receipt).toContain("El texto que firmó:");
  expect(receipt).toContain("Personal suficiente y libertad para organizarnos");
});

test("the language switch turns the page to English and remembers it", async ({ page }) => {
  await page.goto(campaign);
  await expect(page.getByRole("button", { name: "Firmar" })).toBeVisible();
  await page.getByRole("navigation", { name: "Idioma" }).getByRole("link", { name: "English" }).click();
  await expect(page).toHaveURL(/\?lang=en$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("button", { name: "Sign" })).toBeVisible();
  // Without ?lang= the next page stays in English for this browser.
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Open campaigns" })).toBeVisible();
});

test("the server writes numbers as the browser's own Intl does, so live updates match", async ({ page }) => {
  await page.goto(campaign);
  // The goal (50,000) is written by the server's ICU formatter; the live count is
  // rewritten by the browser's Intl: both must write a number the same way.
  const goal = await page.locator(".tally-goal").innerText();
  const intl = await page.evaluate(() => new Intl.NumberFormat("es").format(50000));
  expect(intl).toBe("50.000");
  expect(goal).toContain(intl);
});
