import { test, expect } from "@playwright/test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { baseURL } from "../playwright.config";
import { signAndConfirm } from "./signer";

const slug = "joint-statement-demo";
const campaign = `/c/${slug}`;

const numberIn = async (text: Promise<string>) => Number((await text).replace(/[^0-9]/g, ""));

test("a signature confirmed in one page moves the count in another without reload", async ({ browser, request }) => {
  const watcher = await (await browser.newContext()).newPage();
  const refused: string[] = [];
  watcher.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) refused.push(message.text());
  });
  await watcher.goto(campaign);
  // The live tally's island has hydrated and its stream is connected.
  await expect(watcher.locator(".live-tally[data-live]")).toBeAttached();
  const before = await numberIn(watcher.getByTestId("tally-total").innerText());

  await signAndConfirm(browser, request, `watch-${Date.now()}@example.org`);

  // The total is live; the breakdown by union moves on the campaign's cadence (minutes),
  // which the integration tests check with a clock they move.
  await expect(watcher.getByTestId("tally-total")).toHaveText(String(before + 1), { timeout: 5_000 });
  expect(refused, "the page's policy refuses nothing the page itself needs").toEqual([]);
});

test("the embed counter moves live inside another site's iframe", async ({ browser, request }) => {
  const site = await (await browser.newContext()).newPage();
  // A union's own page on another origin: a little web server of its own.
  const unionSite = http.createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end(
      `<!DOCTYPE html><h1>Our union</h1><iframe src="${baseURL}/embed/${slug}" title="Live count" width="400" height="220"></iframe>`,
    );
  });
  await new Promise<void>((listening) => unionSite.listen(0, "localhost", listening));
  const { port } = unionSite.address() as AddressInfo;
  await site.goto(`http://localhost:${port}/`);
  const frame = site.frameLocator("iframe");
  const total = frame.getByTestId("tally-total");
  await expect(total).toBeVisible();
  const before = await numberIn(total.innerText());
  await expect(frame.getByRole("link", { name: "Sign" })).toHaveAttribute("href", `${baseURL}${campaign}`);

  // The island in the frame is live: only its stream can move the number now.
  await expect(frame.locator(".live-tally[data-live]")).toBeAttached({ timeout: 20_000 });
  await signAndConfirm(browser, request, `embed-${Date.now()}@example.org`);
  await expect(total).toHaveText(String(before + 1), { timeout: 5_000 });
  unionSite.close();
});
