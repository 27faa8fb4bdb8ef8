/**
 * The client with the keyboard alone, in the dark theme and at 360 px wide
 * (issue 11, item 7): Ctrl+K jumps to a salon, Alt+Up/Down move between
 * conversations, Escape closes dialogs, focus is visible; axe passes in the
 * dark theme; a phone-sized window can log in, open a salon and chat with
 * nothing overflowing sideways.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ADMIN_PASSWORD, browserTest } from "./browser.ts";
import { login, pw, users } from "../ws_users.ts";
import {
  assertAccessible,
  assertShownOnce,
  composer,
  control,
  eventually,
  home,
  logIn,
  logInButton,
  openModeration,
  openSalon,
  salons,
  seeMessage,
  send,
  submitLogin,
} from "./ui.ts";

/** The open conversation's title. */
function title(page: Page) {
  return page.locator("#conv-title");
}

/** The focused element's outline and box-shadow, as computed. */
function focusRing(page: Page): Promise<{ tag: string; outline: string; shadow: string }> {
  // A string: the test files are type-checked without the DOM library.
  return page.evaluate(`(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return {
      tag: el.tagName,
      outline: s.outlineStyle === "none" || s.outlineWidth === "0px" ? "none" : s.outline,
      shadow: s.boxShadow,
    };
  })()`);
}

browserTest("keyboard: Ctrl+K jumps to a salon, Alt+Up/Down move, Escape closes", async (t) => {
  await users(t.srv, "kate");
  const kate = await t.open("kate");
  await home(kate.page, t.url);
  await logIn(kate.page, "kate", pw("kate"));
  await openSalon(kate.page, "Général");
  await eventually(async () => assert.equal(await title(kate.page).innerText(), "Général"));

  // Ctrl+K, type a salon's name, Enter: that salon opens.
  await kate.page.keyboard.press("Control+k");
  const jump = kate.page.getByRole("dialog", { name: "Jump to a conversation" });
  await jump.waitFor();
  await kate.page.keyboard.type("Blabla");
  await kate.page.keyboard.press("Enter");
  await jump.waitFor({ state: "hidden" });
  await eventually(async () => assert.equal(await title(kate.page).innerText(), "Blabla"));
  assert.match(kate.page.url(), /#\/s\/Blabla$/);

  // Alt+Up goes back to the salon above, Alt+Down down again.
  await kate.page.keyboard.press("Alt+ArrowUp");
  await eventually(async () => assert.equal(await title(kate.page).innerText(), "Général"));
  await kate.page.keyboard.press("Alt+ArrowDown");
  await eventually(async () => assert.equal(await title(kate.page).innerText(), "Blabla"));
  await kate.page.keyboard.press("Alt+ArrowDown");
  await eventually(async () => assert.equal(await title(kate.page).innerText(), "Comptabilité"));

  // Escape closes the jump dialog (and the conversation does not change).
  await kate.page.keyboard.press("Control+k");
  await jump.waitFor();
  await kate.page.keyboard.press("Escape");
  await jump.waitFor({ state: "hidden" });
  assert.equal(await title(kate.page).innerText(), "Comptabilité");

  // Escape closes the account dialog.
  await control(kate.page, "Kate").click();
  const account = kate.page.getByRole("dialog", { name: "Account" });
  await account.waitFor();
  await kate.page.keyboard.press("Escape");
  await account.waitFor({ state: "hidden" });

  // Ctrl+K works from inside the composer too.
  await openSalon(kate.page, "Général");
  await composer(kate.page).focus();
  await kate.page.keyboard.press("Control+k");
  await jump.waitFor();
  await kate.page.keyboard.press("Escape");
  await jump.waitFor({ state: "hidden" });
});

browserTest("keyboard: focus moved with Tab is visible", async (t) => {
  await users(t.srv, "liam");
  const liam = await t.open("liam");
  await home(liam.page, t.url);
  await logInButton(liam.page).waitFor();
  // The login form: every control reached with Tab shows a ring.
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    await liam.page.keyboard.press("Tab");
    const ring = await focusRing(liam.page);
    if (ring.tag === "BODY") continue;
    seen.push(ring.tag);
    assert.ok(
      ring.outline !== "none" || (ring.shadow !== "none" && ring.shadow !== ""),
      `a focused ${ring.tag} on the login page shows no outline nor box-shadow`,
    );
  }
  assert.ok(seen.length >= 2, `Tab reaches the login form's controls (reached ${seen})`);

  await logIn(liam.page, "liam", pw("liam"));
  await openSalon(liam.page, "Général");
  await composer(liam.page).waitFor();
  // From the composer, Shift+Tab and Tab move through the chat view's controls.
  await composer(liam.page).focus();
  for (const key of ["Shift+Tab", "Shift+Tab", "Tab", "Tab"]) {
    await liam.page.keyboard.press(key);
    const ring = await focusRing(liam.page);
    if (ring.tag === "BODY") continue;
    assert.ok(
      ring.outline !== "none" || (ring.shadow !== "none" && ring.shadow !== ""),
      `a focused ${ring.tag} in the chat view shows no outline nor box-shadow`,
    );
  }
});

browserTest(
  "dark theme: the login page and the chat view have no serious or critical axe violation",
  async (t) => {
    await users(t.srv, "mona");
    const mona = await t.open("mona");
    await mona.page.emulateMedia({ colorScheme: "dark" });
    await home(mona.page, t.url);
    await logInButton(mona.page).waitFor();
    assert.equal(
      await mona.page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches"),
      true,
    );
    await assertAccessible(mona.page, "the login page in the dark theme");

    await logIn(mona.page, "mona", pw("mona"));
    await openSalon(mona.page, "Général");
    await send(mona.page, "A message in the dark, @mona");
    await seeMessage(mona.page, "A message in the dark");
    await assertAccessible(mona.page, "the chat view in the dark theme");
  },
);

/** The page's width beyond the window's, in px (0: nothing overflows sideways). */
async function overflow(page: Page, width: number): Promise<number> {
  const scroll = await page.evaluate("document.documentElement.scrollWidth") as number;
  return scroll - width;
}

browserTest("360 px wide: log in, reach the salons, chat; nothing overflows", async (t) => {
  await users(t.srv, "nina");
  const nina = await t.open("nina");
  await nina.page.setViewportSize({ width: 360, height: 740 });
  await home(nina.page, t.url);
  await logInButton(nina.page).waitFor();
  assert.equal(await overflow(nina.page, 360), 0, "the login page overflows at 360 px");

  await submitLogin(nina.page, "nina", pw("nina"));
  // The salon list is on screen, or behind a control that shows it.
  const list = salons(nina.page);
  const menu = control(nina.page, "Conversations");
  await list.or(menu).first().waitFor();
  if (!(await list.isVisible())) await menu.click();
  await list.waitFor();
  assert.equal(await overflow(nina.page, 360), 0, "the salon list overflows at 360 px");

  await openSalon(nina.page, "Général");
  await composer(nina.page).waitFor();
  await send(nina.page, "Hello from a phone");
  await seeMessage(nina.page, "Hello from a phone");
  await send(nina.page, "A second message with a long-unbroken-word-" + "x".repeat(80));
  await seeMessage(nina.page, "A second message");
  await assertShownOnce(nina.page, "Hello from a phone", "nina");
  assert.equal(await overflow(nina.page, 360), 0, "the chat view overflows at 360 px");
  assert.ok(await composer(nina.page).isVisible(), "the composer is on screen");
  // The dialogs fit too.
  await control(nina.page, "Jump to…").click();
  const jump = nina.page.getByRole("dialog", { name: "Jump to a conversation" });
  await jump.waitFor();
  assert.equal(await overflow(nina.page, 360), 0, "the jump dialog overflows at 360 px");
  await nina.page.keyboard.press("Escape");
  await jump.waitFor({ state: "hidden" });
  await control(nina.page, "Nina").click();
  const account = nina.page.getByRole("dialog", { name: "Account" });
  await account.waitFor();
  assert.equal(await overflow(nina.page, 360), 0, "the account dialog overflows at 360 px");
  const box = await account.boundingBox();
  assert.ok(
    box && box.x >= 0 && box.x + box.width <= 360,
    `the account dialog sticks out: ${JSON.stringify(box)}`,
  );
});

browserTest(
  "keyboard: Ctrl+K jumps to a person, Alt+Down reaches direct conversations, Escape closes New message",
  async (t) => {
    await users(t.srv, "rita", "sam");
    const sam = await login(t.srv, "sam");
    const ok = await sam.client.request({ type: "direct", to: "rita", text: "Hi Rita, from Sam" });
    assert.equal(ok.type, "ok", JSON.stringify(ok));
    const rita = await t.open("rita");
    await home(rita.page, t.url);
    await logIn(rita.page, "rita", pw("rita"));

    // Ctrl+K with part of a person's alias opens the conversation with them.
    await rita.page.keyboard.press("Control+k");
    const jump = rita.page.getByRole("dialog", { name: "Jump to a conversation" });
    await jump.waitFor();
    await rita.page.keyboard.type("sa");
    await rita.page.keyboard.press("Enter");
    await jump.waitFor({ state: "hidden" });
    await eventually(async () => assert.equal(await title(rita.page).innerText(), "Sam"));
    await seeMessage(rita.page, "Hi Rita, from Sam");

    // Alt+Up from the direct conversation goes to the last salon, Alt+Down back to Sam.
    await rita.page.keyboard.press("Alt+ArrowUp");
    await eventually(async () => assert.equal(await title(rita.page).innerText(), "Marketing"));
    await rita.page.keyboard.press("Alt+ArrowDown");
    await eventually(async () => assert.equal(await title(rita.page).innerText(), "Sam"));

    // Escape closes the New message dialog.
    await control(rita.page, "New message").click();
    const dialog = rita.page.getByRole("dialog", { name: "New message", exact: true });
    await dialog.waitFor();
    await rita.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  },
);

browserTest(
  "dark theme: the moderator panel has no serious or critical axe violation",
  async (t) => {
    await users(t.srv, "tess");
    const tess = await login(t.srv, "tess");
    await tess.client.request({ type: "join", salon: "Comptabilité" });
    const admin = await t.open("admin");
    await admin.page.emulateMedia({ colorScheme: "dark" });
    await home(admin.page, t.url);
    await logIn(admin.page, "admin", ADMIN_PASSWORD);
    const panel = await openModeration(admin.page);
    await panel.getByRole("button", { name: "Accept" }).first().waitFor();
    await assertAccessible(admin.page, "the moderator panel in the dark theme");
  },
);
