/**
 * `deno task screenshot`: writes the README's pictures from a real server in
 * Chromium (1280×800, light theme): the client, docs/client.png, with a short
 * conversation seen by one of its members; and the inspector,
 * docs/inspector.png, with bob's connection actor selected and its statechart
 * lit.
 *
 * @module
 */

import { ADMIN_PASSWORD, launchChromium } from "./browser.ts";
import { session, startTestServer } from "../ws_client.ts";
import { pw, users } from "../ws_users.ts";
import { home, logIn, openSalon, salonEntry, seeMessage, submitLogin } from "./ui.ts";

/** Where the picture goes. */
export const SCREENSHOT = new URL("../../docs/client.png", import.meta.url);

/** Where the inspector's picture goes. */
export const INSPECTOR_SCREENSHOT = new URL("../../docs/inspector.png", import.meta.url);

const CONVERSATION: [string, string][] = [
  ["bob", "Morning all! The release notes for 2.4 are up."],
  ["chloe", "Thanks @bob, reading them now"],
  ["alice", "Nice work. Is the migration guide linked from https://example.org/causerie?"],
  ["bob", "Yes, at the bottom of the page."],
  ["chloe", "Lunch at noon, anyone?"],
];

/** Builds the scene and writes {@link SCREENSHOT}. */
async function main(): Promise<void> {
  const srv = await startTestServer({ CAUSERIE_ADMIN_PASSWORD: ADMIN_PASSWORD });
  const browser = await launchChromium();
  try {
    await users(srv, "alice", "bob", "chloe");
    const speakers = new Map<string, Awaited<ReturnType<typeof session>>>();
    for (const name of ["bob", "chloe"]) {
      speakers.set(name, await session(srv, { username: name, password: pw(name) }, name));
    }
    const context = await browser.newContext({
      locale: "en-GB",
      timezoneId: "UTC",
      colorScheme: "light",
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    await home(page, srv.url);
    await logIn(page, "alice", pw("alice"));
    await openSalon(page, "Général");
    for (const [name, text] of CONVERSATION) {
      if (name === "alice") {
        const alice = await session(srv, { username: "alice", password: pw("alice") }, "alice");
        await alice.client.request({ type: "say", salon: "Général", text });
        await alice.client.close();
      } else {
        await speakers.get(name)!.client.request({ type: "say", salon: "Général", text });
      }
      await seeMessage(page, text);
    }
    // The client sends its read marker shortly after the messages show: let the badge clear.
    await salonEntry(page, "Général").filter({ hasNotText: "unread" }).waitFor({ timeout: 5_000 })
      .catch(() => console.error("the open salon still shows unread messages"));
    await page.screenshot({ path: SCREENSHOT.pathname });
    console.log(`wrote ${SCREENSHOT.pathname}`);

    const inspector = await context.newPage();
    await inspector.goto(`${srv.url}/admin/inspector`);
    await submitLogin(inspector, "admin", ADMIN_PASSWORD);
    await inspector.getByRole("status").filter({ hasText: "Live." }).waitFor();
    const actors = inspector.getByRole("region", { name: "Actors", exact: true });
    await actors.getByRole("button", { name: /^connection \S+ active bob$/ }).click();
    await inspector.getByRole("group", { name: "Statechart of connection", exact: true }).waitFor();
    await inspector.screenshot({ path: INSPECTOR_SCREENSHOT.pathname });
    console.log(`wrote ${INSPECTOR_SCREENSHOT.pathname}`);
    await context.close();
  } finally {
    await browser.close();
    await srv.stop();
  }
}

if (import.meta.main) await main();
