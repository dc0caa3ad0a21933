import { defineConfig } from "@playwright/test";
import * as path from "node:path";

// The server under test: a fresh SQLite database and mail written as .eml files,
// started by scripts/e2e-server.sh on its own port.
const port = process.env.E2E_PORT ?? "3100";
export const baseURL = `http://127.0.0.1:${port}`;
export const mailDir = path.resolve(__dirname, ".e2e", "mail");
/** The partner key scripts/e2e-server.sh makes: the JSON sign API takes no request without one. */
export const partnerKeyFile = path.resolve(__dirname, ".e2e", "partner-key");
/** The admin scripts/e2e-server.sh makes from the command line. */
export const admin = { email: "admin@example.org", password: "an admin password for e2e" };

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-gpu",
      ],
    },
  },
  webServer: {
    command: `bash ../scripts/e2e-server.sh`,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    env: {
      E2E_PORT: port,
      E2E_DIR: path.resolve(__dirname, ".e2e"),
      E2E_ADMIN_EMAIL: admin.email,
      E2E_ADMIN_PASSWORD: admin.password,
    },
  },
});
