/**
 * The client's session and connection: a reload keeps the person logged in;
 * after the server restarts, the client reconnects by itself and catches up on
 * what was said meanwhile, with no gap and no duplicate.
 */

import assert from "node:assert/strict";
import { browserTest } from "./browser.ts";
import { session } from "../ws_client.ts";
import { pw, users } from "../ws_users.ts";
import {
  assertShownOnce,
  eventually,
  home,
  logIn,
  logInButton,
  openSalon,
  salons,
  seeMessage,
  send,
} from "./ui.ts";

/** How long the client may take to come back after the server does (backoff with jitter). */
const RECONNECT_MS = 30_000;

browserTest("reload keeps the session", async (t) => {
  await users(t.srv, "erin");
  const erin = await t.open("erin");
  await home(erin.page, t.url);
  await logIn(erin.page, "erin", pw("erin"));
  await openSalon(erin.page, "Général");
  await send(erin.page, "said before the reload");
  await seeMessage(erin.page, "said before the reload");

  await erin.page.reload();
  await salons(erin.page).waitFor();
  assert.equal(await logInButton(erin.page).count(), 0, "no login form after a reload");
  await openSalon(erin.page, "Général");
  await seeMessage(erin.page, "said before the reload");
  await send(erin.page, "said after the reload");
  await seeMessage(erin.page, "said after the reload");
  await assertShownOnce(erin.page, "said before the reload", "erin");
  await assertShownOnce(erin.page, "said after the reload", "erin");
});

browserTest(
  "after the server restarts, the client reconnects and catches up on messages sent meanwhile",
  async (t) => {
    // While the server is down (and while the tab is held offline), each connection attempt fails,
    // and Chromium logs every failed WebSocket connection on the console.
    t.allowConsoleError(
      /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws' failed/,
      "reconnection attempts while the server is down",
    );
    await users(t.srv, "frank", "gina");
    const frank = await t.open("frank");
    await home(frank.page, t.url);
    await logIn(frank.page, "frank", pw("frank"));
    await openSalon(frank.page, "Général");
    const gina = await session(t.srv, { username: "gina", password: pw("gina") }, "gina");
    await gina.client.request({ type: "say", salon: "Général", text: "before the restart" });
    await seeMessage(frank.page, "before the restart");
    const status = frank.page.getByRole("status");
    const connected = await status.innerText();

    // The tab is held offline across the restart, so that the messages below are sent while it is
    // away, whatever its reconnection timing.
    await frank.context.setOffline(true);
    await t.restart();
    await eventually(async () => assert.notEqual(await status.innerText(), connected));
    const back = await session(t.srv, { username: "gina", password: pw("gina") }, "gina-again");
    for (const text of ["while you were away 1", "while you were away 2"]) {
      const ok = await back.client.request({ type: "say", salon: "Général", text });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
    }
    await frank.context.setOffline(false);

    await seeMessage(frank.page, "while you were away 2", RECONNECT_MS);
    await eventually(async () => assert.equal(await status.innerText(), connected), RECONNECT_MS);
    for (const text of ["before the restart", "while you were away 1", "while you were away 2"]) {
      await assertShownOnce(frank.page, text, "frank");
    }
    // Live again: a new message arrives without a reload.
    await back.client.request({ type: "say", salon: "Général", text: "live after the restart" });
    await seeMessage(frank.page, "live after the restart");
    await assertShownOnce(frank.page, "live after the restart", "frank");
  },
);
