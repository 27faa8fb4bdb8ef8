/**
 * Direct messages in the browser client: one user starts a conversation
 * with another through "New message" (searching the people of their
 * salons), both see each message exactly once, and the recipient's
 * "Direct messages" list shows the unread count, which clears when opened.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest } from "./browser.ts";
import { alias, pw, users } from "../ws_users.ts";
import {
  assertAccessible,
  assertShownOnce,
  eventually,
  home,
  literal,
  logIn,
  openSalon,
  seeMessage,
  send,
} from "./ui.ts";

/** The "Direct messages" navigation region. */
function directs(page: Page) {
  return page.getByRole("navigation", { name: "Direct messages", exact: true });
}

/** The entry of the conversation with `alias` (its accessible name starts with the alias). */
function directEntry(page: Page, alias: string) {
  return directs(page).getByRole("link", { name: new RegExp(`^${literal(alias).source}`) });
}

browserTest(
  "a direct message started with New message: each side sees it once, the unread count clears when opened",
  async (t) => {
    await users(t.srv, "kim", "lou");
    const kim = { alias: alias("kim") };
    const lou = { alias: alias("lou") };
    const kimTab = await t.open("kim");
    const louTab = await t.open("lou");
    await home(kimTab.page, t.url);
    await logIn(kimTab.page, "kim", pw("kim"));
    await home(louTab.page, t.url);
    await logIn(louTab.page, "lou", pw("lou"));
    // lou stays in a salon: the direct conversation arrives in the list.
    await openSalon(louTab.page, "Général");

    const k = kimTab.page;
    await directs(k).getByRole("button", { name: "New message", exact: true }).click();
    const search = k.getByLabel("Search people", { exact: true });
    await search.fill("lou");
    const option = k.getByRole("option", { name: new RegExp(`^${literal(lou.alias).source}`) });
    await option.waitFor();
    await assertAccessible(k, "the New message dialog");
    await search.press("Enter");
    await k.getByRole("heading", { name: lou.alias, exact: true }).waitFor();
    await directEntry(k, lou.alias).waitFor();

    await send(k, "Hello Lou, a private word");
    await seeMessage(k, "Hello Lou, a private word");
    await send(k, "and a second one");
    await seeMessage(k, "and a second one");

    const l = louTab.page;
    const entry = directEntry(l, kim.alias);
    await eventually(async () => assert.match((await entry.textContent()) ?? "", /2 unread/));
    await entry.click();
    await seeMessage(l, "Hello Lou, a private word");
    await seeMessage(l, "and a second one");
    await eventually(async () =>
      assert.doesNotMatch((await entry.textContent()) ?? "", /unread/, "cleared once opened")
    );

    await send(l, "Hi Kim, got it");
    await seeMessage(k, "Hi Kim, got it");
    await seeMessage(l, "Hi Kim, got it");
    // One more round trip: any duplicate of the earlier ones would have come by now.
    await send(k, "last one");
    await seeMessage(l, "last one");
    await seeMessage(k, "last one");
    for (const [page, who] of [[k, "kim"], [l, "lou"]] as const) {
      for (
        const text of [
          "Hello Lou, a private word",
          "and a second one",
          "Hi Kim, got it",
          "last one",
        ]
      ) {
        await assertShownOnce(page, text, who);
      }
    }
    // Presence has a text alternative, not colour alone: both are online.
    await eventually(async () =>
      assert.match((await directEntry(k, lou.alias).textContent()) ?? "", /online/)
    );
    await assertAccessible(l, "a direct conversation");
  },
);
