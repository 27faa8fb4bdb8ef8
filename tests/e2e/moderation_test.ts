/**
 * Moderating in the browser client: the admin accepts a join request in the
 * Moderation region and the requester's salon opens live; a kicked member
 * sees the notice with the time the kick ends, and logging in again is
 * refused with that time.
 */

import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { ADMIN_PASSWORD, browserTest } from "./browser.ts";
import { session } from "../ws_client.ts";
import { pw, users } from "../ws_users.ts";
import {
  assertAccessible,
  composer,
  eventually,
  home,
  literal,
  logIn,
  logInButton,
  openModeration,
  openSalon,
  salons,
  seeMessage,
  send,
  submitLogin,
} from "./ui.ts";

/**
 * The button `name` ("Join", "Request to join") for `salon`: in the salon's entry of the list
 * when the list has one there, else the one on the page (with the salon open).
 */
async function joinButton(page: Page, salon: string, name: string): Promise<Locator> {
  const inEntry = salons(page).getByRole("listitem").filter({ hasText: salon })
    .getByRole("button", { name, exact: true });
  if (await inEntry.count() === 1) return inEntry;
  return page.getByRole("button", { name, exact: true });
}

browserTest(
  "a moderator accepts a join request in the Moderation region and the requester's salon opens live",
  async (t) => {
    await users(t.srv, "carol");
    const admin = await t.open("admin");
    await home(admin.page, t.url);
    await logIn(admin.page, "admin", ADMIN_PASSWORD);
    const panel = await openModeration(admin.page);

    const carol = await t.open("carol");
    await home(carol.page, t.url);
    await logIn(carol.page, "carol", pw("carol"));
    await openSalon(carol.page, "Informatique");
    await (await joinButton(carol.page, "Informatique", "Request to join")).click();

    // The request reaches the open panel live, with who asks and for which salon.
    const request = panel.getByText("carol");
    await request.first().waitFor();
    await panel.getByText("Informatique").first().waitFor();
    await assertAccessible(admin.page, "the moderator panel with a join request");
    await panel.getByRole("button", { name: "Accept", exact: true }).click();

    // Carol's open salon becomes hers without a reload: no request button, she can speak.
    await eventually(async () => {
      assert.equal(
        await carol.page.getByRole("button", { name: "Request to join", exact: true }).count(),
        0,
      );
    });
    await send(carol.page, "Merci, I'm in");
    await seeMessage(carol.page, "Merci, I'm in");
    assert.equal(await composer(carol.page).inputValue(), "");
    // The request is closed on the panel.
    await eventually(async () => assert.equal(await request.count(), 0));
  },
);

browserTest(
  "a kick shows the kicked notice with its end, and the next login is refused with that time",
  async (t) => {
    await users(t.srv, "dave");
    // The refused login answers 403 (PROTOCOL 1), and Chromium logs every 4xx answer on the console.
    t.allowConsoleError(
      /Failed to load resource: the server responded with a status of 403/,
      "the kicked user's login is refused with 403",
    );
    const dave = await t.open("dave");
    await home(dave.page, t.url);
    await logIn(dave.page, "dave", pw("dave"));
    await openSalon(dave.page, "Général");

    // A second session of dave's over a raw socket learns the exact end of the kick.
    const witness = await session(t.srv, { username: "dave", password: pw("dave") }, "dave-raw");
    const mod = await session(t.srv, { username: "admin", password: ADMIN_PASSWORD }, "admin-raw");
    const ok = await mod.client.request({
      type: "kick",
      username: "dave",
      minutes: 10,
      reason: "cool down",
    });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    const kicked = await witness.client.nextOfType("kicked");
    // The contexts run in en-GB on UTC: the end shows as HH:MM of `until` in UTC.
    const hhmm = (kicked.until as string).slice(11, 16);

    await dave.page.getByRole("alert").filter({ hasText: literal(hhmm) }).first().waitFor();

    const again = await t.open("dave-again");
    await home(again.page, t.url);
    await logInButton(again.page).waitFor();
    await submitLogin(again.page, "dave", pw("dave"));
    await again.page.getByText(literal(hhmm)).first().waitFor();
    assert.equal(await salons(again.page).count(), 0, "the refused login shows no salon");
    assert.ok(await logInButton(again.page).isVisible(), "the login form stays");
  },
);
