/**
 * Chatting in the browser client: two people in two browser contexts see
 * each other's messages exactly once; a message made of HTML shows as text;
 * the login page and the chat view pass axe.
 */

import assert from "node:assert/strict";
import { browserTest } from "./browser.ts";
import { session } from "../ws_client.ts";
import { alias, pw, users } from "../ws_users.ts";
import {
  assertAccessible,
  assertShownOnce,
  composer,
  eventually,
  home,
  log,
  logIn,
  logInButton,
  messages,
  openSalon,
  registerInBrowser,
  seeMessage,
  send,
} from "./ui.ts";

browserTest("two users in two contexts chat and each sees each message exactly once", async (t) => {
  await users(t.srv, "bob");
  const alice = await t.open("alice");
  const bob = await t.open("bob");
  await home(alice.page, t.url);
  await registerInBrowser(alice.page, "alice", alias("alice"), pw("alice"));
  await home(bob.page, t.url);
  await logIn(bob.page, "bob", pw("bob"));
  await openSalon(alice.page, "Général");
  await openSalon(bob.page, "Général");

  await send(alice.page, "Bonjour Bob, first message");
  await seeMessage(bob.page, "Bonjour Bob, first message");
  await seeMessage(alice.page, "Bonjour Bob, first message");
  await send(bob.page, "Salut Alice, the reply");
  await seeMessage(alice.page, "Salut Alice, the reply");
  await seeMessage(bob.page, "Salut Alice, the reply");
  // One more round trip: whatever duplicate of the first two could still come has come by now
  // (the server sends a conversation's events in order).
  await send(alice.page, "and a third one");
  await seeMessage(bob.page, "and a third one");
  await seeMessage(alice.page, "and a third one");

  for (const [tab, who] of [[alice, "alice"], [bob, "bob"]] as const) {
    for (
      const text of ["Bonjour Bob, first message", "Salut Alice, the reply", "and a third one"]
    ) {
      await assertShownOnce(tab.page, text, who);
    }
  }
  // The composer is emptied by sending.
  assert.equal(await composer(alice.page).inputValue(), "");
});

browserTest(
  "a message <img src=x onerror=alert(1)> renders as text, sent or received",
  async (t) => {
    const hostile = "<img src=x onerror=alert(1)>";
    await users(t.srv, "harry", "ivy");
    const harry = await t.open("harry");
    const fetched: string[] = [];
    harry.page.on("request", (request) => fetched.push(request.url()));
    await home(harry.page, t.url);
    await logIn(harry.page, "harry", pw("harry"));
    await openSalon(harry.page, "Général");

    const ivy = await session(t.srv, { username: "ivy", password: pw("ivy") }, "ivy");
    const ok = await ivy.client.request({ type: "say", salon: "Général", text: hostile });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    await seeMessage(harry.page, hostile);
    await send(harry.page, hostile);
    await eventually(async () => assert.equal(await messages(harry.page, hostile).count(), 2));
    // Another message after both: they have been rendered and had every chance to run.
    await ivy.client.request({ type: "say", salon: "Général", text: "after the hostile ones" });
    await seeMessage(harry.page, "after the hostile ones");

    assert.deepEqual(harry.dialogs, [], "no dialog opened");
    assert.equal(await log(harry.page).locator('img[src="x"]').count(), 0, "no <img> made of it");
    assert.deepEqual(fetched.filter((u) => new URL(u).pathname === "/x"), [], "nothing fetched");
  },
);

browserTest(
  "axe: the login page and the chat view have no serious or critical violation",
  async (t) => {
    await users(t.srv, "june");
    const june = await t.open("june");
    await home(june.page, t.url);
    await logInButton(june.page).waitFor();
    await assertAccessible(june.page, "the login page");

    await logIn(june.page, "june", pw("june"));
    await openSalon(june.page, "Général");
    await send(june.page, "A message so that the log is not empty");
    await seeMessage(june.page, "A message so that the log is not empty");
    await assertAccessible(june.page, "the chat view");
  },
);
