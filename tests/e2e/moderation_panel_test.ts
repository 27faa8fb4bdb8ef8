/**
 * The moderator panel's tools in Chromium: the admin finds a member by
 * search and kicks them with a reason (the member sees the kicked notice),
 * bans with a confirmation that says what happens and unbans, announces
 * (members see the announcement), starts and cancels a shutdown; axe finds
 * no serious or critical violation with the panel's dialogs open.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ADMIN_PASSWORD, browserTest } from "./browser.ts";
import { pw, users } from "../ws_users.ts";
import { assertAccessible, eventually, home, literal, logIn, moderation, openSalon } from "./ui.ts";

/** Opens the panel and searches `username`; returns the panel. */
async function find(page: Page, username: string) {
  const panel = moderation(page);
  await panel.waitFor();
  await panel.getByRole("searchbox", { name: "Search users", exact: true }).fill(username);
  await panel.getByRole("button", { name: `Kick ${username}`, exact: true }).waitFor();
  return panel;
}

browserTest(
  "the admin kicks a member from the panel with a reason and the member sees the kicked notice",
  async (t) => {
    await users(t.srv, "dave");
    const dave = await t.open("dave");
    await home(dave.page, t.url);
    await logIn(dave.page, "dave", pw("dave"));
    await openSalon(dave.page, "Général");

    const admin = await t.open("admin");
    await home(admin.page, t.url);
    await logIn(admin.page, "admin", ADMIN_PASSWORD);
    const panel = await find(admin.page, "dave");
    await panel.getByRole("button", { name: "Kick dave", exact: true }).click();
    const dialog = admin.page.getByRole("dialog", { name: "Kick dave", exact: true });
    await dialog.getByRole("textbox", { name: "Minutes", exact: true }).fill("10");
    await dialog.getByRole("textbox", { name: "Reason", exact: true }).fill("cool down");
    await assertAccessible(admin.page, "the moderator panel with the kick dialog open");
    await dialog.getByRole("button", { name: "Kick dave", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    await panel.getByText("dave is kicked for 10 minutes.").waitFor();

    await dave.page.getByRole("alert").filter({ hasText: literal("Reason: cool down") }).waitFor();
    const alert = await dave.page.getByRole("alert").first().innerText();
    assert.match(alert, /You were kicked until/);
    // The list shows the kick in force, and Unban lifts it.
    await panel.getByText(/kicked until/).waitFor();
    await panel.getByRole("button", { name: "Unban dave", exact: true }).click();
    await panel.getByText("dave may log in again.").waitFor();
  },
);

browserTest(
  "ban asks for a confirmation naming what happens; Escape closes the dialogs; unban lifts it",
  async (t) => {
    await users(t.srv, "erin");
    const erin = await t.open("erin");
    await home(erin.page, t.url);
    await logIn(erin.page, "erin", pw("erin"));
    await openSalon(erin.page, "Général");

    const admin = await t.open("admin");
    await home(admin.page, t.url);
    await logIn(admin.page, "admin", ADMIN_PASSWORD);
    const panel = await find(admin.page, "erin");

    // Escape closes the kick dialog without kicking.
    await panel.getByRole("button", { name: "Kick erin", exact: true }).click();
    const kick = admin.page.getByRole("dialog", { name: "Kick erin", exact: true });
    await kick.waitFor();
    await admin.page.keyboard.press("Escape");
    await kick.waitFor({ state: "hidden" });

    await panel.getByRole("button", { name: "Ban erin", exact: true }).click();
    const ban = admin.page.getByRole("dialog", { name: "Ban erin for good?", exact: true });
    await ban.getByRole("textbox", { name: "Reason", exact: true }).fill("spam");
    await ban.getByRole("checkbox", { name: "Also delete all their messages" }).check();
    await assertAccessible(admin.page, "the moderator panel with the ban confirmation open");
    // Escape keeps erin; the confirmation comes back unchanged in meaning.
    await admin.page.keyboard.press("Escape");
    await ban.waitFor({ state: "hidden" });
    await panel.getByRole("button", { name: "Ban erin", exact: true }).click();
    await ban.getByRole("checkbox", { name: "Also delete all their messages" }).check();
    await ban.getByRole("button", { name: "Ban erin and delete their messages", exact: true })
      .click();
    await panel.getByText("erin is banned and their messages are deleted.").waitFor();
    await erin.page.getByRole("alert").filter({ hasText: "This account is banned." }).waitFor();
    await erin.page.getByRole("alert").filter({ hasText: "Reason: spam" }).waitFor();

    await panel.getByRole("button", { name: "Unban erin", exact: true }).click();
    await panel.getByText("erin may log in again.").waitFor();
    const again = await t.open("erin-again");
    await home(again.page, t.url);
    await logIn(again.page, "erin", pw("erin"));
  },
);

browserTest("the admin announces from the panel and a member sees the announcement", async (t) => {
  await users(t.srv, "fred");
  const fred = await t.open("fred");
  await home(fred.page, t.url);
  await logIn(fred.page, "fred", pw("fred"));
  await openSalon(fred.page, "Général");
  // Members have no panel.
  assert.equal(
    await fred.page.getByRole("region", { name: "Moderation", exact: true }).count(),
    0,
  );

  const admin = await t.open("admin");
  await home(admin.page, t.url);
  await logIn(admin.page, "admin", ADMIN_PASSWORD);
  const panel = moderation(admin.page);
  await panel.waitFor();
  await panel.getByRole("textbox", { name: "Announcement", exact: true }).fill(
    "Maintenance at noon",
  );
  await panel.getByRole("button", { name: "Announce", exact: true }).click();
  await panel.getByText("Announcement sent.").waitFor();
  await fred.page.getByRole("region", { name: "Announcements" })
    .getByText(literal("Maintenance at noon")).waitFor();

  // Shutdown: the countdown reaches everyone, and the admin cancels it.
  await panel.getByRole("textbox", { name: "Seconds before shutdown", exact: true }).fill("600");
  await panel.getByRole("button", { name: "Start shutdown", exact: true }).click();
  await fred.page.getByRole("alert").filter({ hasText: "shutting down" }).waitFor();
  await panel.getByRole("button", { name: "Cancel shutdown", exact: true }).click();
  await panel.getByText("Shutdown cancelled.").waitFor();
  await eventually(async () =>
    assert.equal(await fred.page.getByRole("alert").filter({ hasText: "shutting down" }).count(), 0)
  );
});

browserTest(
  "the admin makes a member a moderator from the panel; the member's next session has the Moderation region",
  async (t) => {
    await users(t.srv, "gina");
    const gina = await t.open("gina");
    await home(gina.page, t.url);
    await logIn(gina.page, "gina", pw("gina"));
    assert.equal(await moderation(gina.page).count(), 0, "a member has no moderator panel");

    const admin = await t.open("admin");
    await home(admin.page, t.url);
    await logIn(admin.page, "admin", ADMIN_PASSWORD);
    const panel = await find(admin.page, "gina");
    await panel.getByRole("combobox", { name: "Role of gina", exact: true }).selectOption(
      "moderator",
    );
    await eventually(async () => {
      const shown = await panel.getByText(/gina/).first().innerText();
      assert.match(shown, /moderator/);
    });

    await gina.page.reload();
    await moderation(gina.page).waitFor();
  },
);
