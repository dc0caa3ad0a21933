import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "@playwright/test";
import { mailDir } from "../playwright.config";

/** Decodes quoted-printable soft breaks and escapes (UTF-8), enough to read links and words. */
function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Waits for a mail to `to` whose text has a link under `prefix`, and returns it. */
export async function linkFromMail(to: string, prefix: string): Promise<string> {
  let link: string | undefined;
  await expect
    .poll(
      () => {
        const files = fs.existsSync(mailDir) ? fs.readdirSync(mailDir) : [];
        for (const file of files.filter((f) => f.endsWith(".eml"))) {
          const raw = decodeQuotedPrintable(fs.readFileSync(path.join(mailDir, file), "utf8"));
          if (!raw.includes(to)) continue;
          const match = raw.match(new RegExp(`https?://[^\\s"<>]+${prefix}[A-Za-z0-9_-]{43}`));
          if (match) link = match[0];
        }
        return link;
      },
      { timeout: 20_000, message: `a mail to ${to} with a ${prefix} link` },
    )
    .toBeTruthy();
  return link!;
}

/** Mails to `to` whose subject is `subject`, as their decoded text. */
export function mailsTo(to: string, subject: string): string[] {
  const files = fs.existsSync(mailDir) ? fs.readdirSync(mailDir) : [];
  return files
    .filter((f) => f.endsWith(".eml"))
    .map((f) => decodeQuotedPrintable(fs.readFileSync(path.join(mailDir, f), "utf8")))
    .filter((raw) => raw.includes(`To: ${to}`) && raw.includes(`Subject: ${subject}`));
}
