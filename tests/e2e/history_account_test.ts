/**
 * A salon with 10,000 messages scrolls with only a window of its history in
 * the DOM (issue 11, "Performance"); the Account dialog changes the password
 * (the old one is refused, the new one logs in) and logs out (issue 11,
 * item 1).
 */

import assert from "node:assert/strict";
import type { NewMessage } from "../../store/store.ts";
import { browserTest } from "./browser.ts";
import { pw, users } from "../ws_users.ts";
import {
  control,
  eventually,
  home,
  log,
  logIn,
  logInButton,
  openSalon,
  salons,
  seeMessage,
  submitLogin,
} from "./ui.ts";

const SEEDED = 10_000;
/** The most messages the client keeps in the DOM (`WINDOW` in web/views/message_list.tsx). */
const WINDOW = 150;

browserTest("a salon with 10,000 messages keeps only a window of them in the DOM", async (t) => {
  await users(t.srv, "olga", "paul");
  // Seed the history through the store, then restart: the server starts on a salon that has it.
  const store = t.srv.server.store;
  const paul = await store.userByName("paul");
  const general = (await store.listSalons()).find((s) => s.name === "Général");
  assert.ok(paul && general, "paul and Général exist");
  const start = Date.now() - SEEDED * 60_000;
  for (let from = 0; from < SEEDED; from += 500) {
    const batch: NewMessage[] = [];
    for (let i = from; i < from + 500; i++) {
      batch.push({
        kind: "salon",
        salonId: general.id,
        userId: paul.id,
        text: `seeded message ${i}`,
        at: start + i * 60_000,
      });
    }
    await store.appendMessages(batch);
  }
  await t.restart();

  const olga = await t.open("olga");
  await home(olga.page, t.url);
  await logIn(olga.page, "olga", pw("olga"));
  await openSalon(olga.page, "Général");
  await seeMessage(olga.page, `seeded message ${SEEDED - 1}`);

  // The most message rows the list ever held, watched by the page itself.
  await olga.page.evaluate(`(() => {
    const box = document.querySelector('[role="log"]');
    const count = () => box.querySelectorAll("li[data-id]").length;
    window.__mostRows = count();
    new MutationObserver(() => {
      window.__mostRows = Math.max(window.__mostRows, count());
    }).observe(box, { childList: true, subtree: true });
  })()`);
  const oldestShown = async () =>
    await olga.page.evaluate(`Math.min(...[...document.querySelectorAll(
      '[role="log"] li[data-id]')].map((li) => Number(li.dataset.id)))`) as number;

  const first = await oldestShown();
  let oldest = first;
  // Scroll to the top again and again: older pages load (`before`) and the window moves up.
  for (let round = 0; round < 40 && oldest > first - 1_000; round++) {
    await olga.page.evaluate(`document.querySelector('[role="log"]').scrollTop = 0`);
    await eventually(async () => {
      const now = await oldestShown();
      assert.ok(now < oldest, `round ${round}: the oldest message shown stays ${now}`);
      oldest = now;
    });
    const rows = await log(olga.page).locator("li[data-id]").count();
    assert.ok(rows <= WINDOW, `${rows} message rows in the DOM, more than ${WINDOW}`);
  }
  assert.ok(oldest <= first - 1_000, `scrolling up reached ${oldest} only (from ${first})`);
  const most = await olga.page.evaluate("window.__mostRows") as number;
  assert.ok(most <= WINDOW, `the DOM held ${most} message rows at once, more than ${WINDOW}`);
  // What is shown is the seeded text, in order.
  const texts = await log(olga.page).locator("li[data-id] .text").allInnerTexts();
  const numbers = texts.map((s) => Number(/seeded message (\d+)/.exec(s)?.[1]));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), "messages shown in order");
  assert.equal(new Set(numbers).size, numbers.length, "no message shown twice");
});

browserTest("account: change the password, then log out", async (t) => {
  await users(t.srv, "quinn");
  const quinn = await t.open("quinn");
  // The refused login answers 401, which the browser logs.
  t.allowConsoleError(/status of 401/, "the old password is refused");
  await home(quinn.page, t.url);
  await logIn(quinn.page, "quinn", pw("quinn"));

  await control(quinn.page, "Quinn").click();
  const account = quinn.page.getByRole("dialog", { name: "Account" });
  await account.waitFor();
  // A wrong current password is explained next to its field.
  await account.getByLabel("Current password", { exact: true }).fill("not the password");
  await account.getByLabel("New password", { exact: true }).fill("a brand new password");
  await account.getByRole("button", { name: "Change password" }).click();
  await eventually(async () =>
    assert.equal(
      await account.getByLabel("Current password", { exact: true }).getAttribute("aria-invalid"),
      "true",
    )
  );
  await account.getByLabel("Current password", { exact: true }).fill(pw("quinn"));
  await account.getByRole("button", { name: "Change password" }).click();
  // Every session was revoked: back to the login form.
  await logInButton(quinn.page).waitFor();

  await submitLogin(quinn.page, "quinn", pw("quinn"));
  await quinn.page.locator(".error").first().waitFor();
  assert.equal(await salons(quinn.page).count(), 0, "the old password does not log in");
  await logIn(quinn.page, "quinn", "a brand new password");

  // Log out from the Account dialog: back to the login form, and a reload stays there.
  await control(quinn.page, "Quinn").click();
  await account.waitFor();
  await account.getByRole("button", { name: "Log out" }).click();
  await logInButton(quinn.page).waitFor();
  assert.equal(await salons(quinn.page).count(), 0);
  await quinn.page.reload();
  await logInButton(quinn.page).waitFor();
  assert.equal(await salons(quinn.page).count(), 0, "logged out for good");
  await openSalonAfterLogin(quinn.page);
});

/** Logs in again with the new password and opens a salon: the account still works. */
async function openSalonAfterLogin(page: import("playwright-core").Page): Promise<void> {
  await logIn(page, "quinn", "a brand new password");
  await openSalon(page, "Général");
}
