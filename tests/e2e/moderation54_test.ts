/**
 * Moderation beyond the original (PROTOCOL 5.4) in Chromium, against the
 * real server: a mute seen by the muted member (banner with the time left,
 * composer disabled, given back by Unmute); slow mode refusing a second
 * message (the composer says when it may send again); an edit seen live by
 * another member ("(edited)" and the new text) and a deletion by its author;
 * a report reaching a moderator, who reads it in context and deletes the
 * message (members see the tombstone), deletes another from the message menu
 * and resolves the report. axe checks every new dialog and the queue.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ADMIN_PASSWORD, browserTest } from "./browser.ts";
import { pw, users } from "../ws_users.ts";
import {
  assertAccessible,
  composer,
  control,
  eventually,
  home,
  literal,
  log,
  logIn,
  moderation,
  openModeration,
  openSalon,
  seeMessage,
  send,
  submitLogin,
} from "./ui.ts";

/** A member logged in with Général open. */
async function member(t: Parameters<Parameters<typeof browserTest>[1]>[0], name: string) {
  const tab = await t.open(name);
  await home(tab.page, t.url);
  await logIn(tab.page, name, pw(name));
  await openSalon(tab.page, "Général");
  return tab;
}

/** The admin logged in, with Général open and the panel shown. */
async function admin(t: Parameters<Parameters<typeof browserTest>[1]>[0]) {
  const tab = await t.open("admin");
  await home(tab.page, t.url);
  await logIn(tab.page, "admin", ADMIN_PASSWORD);
  await openSalon(tab.page, "Général");
  await moderation(tab.page).waitFor();
  return tab;
}

/** The message of the open conversation that shows `text`. */
function messageItem(page: Page, text: string) {
  return log(page).getByRole("listitem").filter({ hasText: literal(text) });
}

/** Opens the "Message actions" of the message showing `text` and picks `action`. */
async function act(page: Page, text: string, action: string) {
  const item = messageItem(page, text);
  await item.getByRole("button", { name: "Message actions", exact: true }).click();
  await item.getByRole("button", { name: action, exact: true }).click();
}

browserTest(
  "a mute is seen by the muted member: a banner with the time left and a disabled composer, until Unmute",
  async (t) => {
    await users(t.srv, "dave");
    const dave = await member(t, "dave");
    const mod = await admin(t);
    const panel = moderation(mod.page);
    await panel.getByRole("searchbox", { name: "Search users", exact: true }).fill("dave");
    await panel.getByRole("button", { name: "Mute dave", exact: true }).click();
    const dialog = mod.page.getByRole("dialog", { name: "Mute dave", exact: true });
    await dialog.getByRole("textbox", { name: "Minutes", exact: true }).fill("10");
    await dialog.getByRole("combobox", { name: "Where", exact: true }).selectOption("Général");
    await dialog.getByRole("textbox", { name: "Reason", exact: true }).fill("cool down");
    await assertAccessible(mod.page, "the moderator panel with the mute dialog open");
    await dialog.getByRole("button", { name: "Mute dave", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    await panel.getByText("dave is muted in Général for 10 minutes.").waitFor();

    const banner = dave.page.getByRole("status").filter({ hasText: "You are muted in Général" });
    await banner.waitFor();
    assert.match(await banner.innerText(), /until .*Reason: cool down/s);
    await dave.page.getByText(/^(9 min \d+ s|10 min 0 s) left$/).waitFor();
    assert.equal(await composer(dave.page).isDisabled(), true, "the composer is disabled");
    await assertAccessible(dave.page, "the chat with the muted banner");

    // A reload (a new session) shows the mute at once: the server repeats it after the welcome.
    await dave.page.reload();
    await banner.waitFor();
    assert.equal(await composer(dave.page).isDisabled(), true, "still disabled after a reload");

    // The countdown is live.
    const before = await dave.page.getByText(/ left$/).innerText();
    await eventually(async () =>
      assert.notEqual(await dave.page.getByText(/ left$/).innerText(), before)
    );

    await panel.getByText(/muted in Général until/).waitFor();
    await panel.getByRole("button", { name: "Unmute dave", exact: true }).click();
    const unmute = mod.page.getByRole("dialog", { name: "Unmute dave", exact: true });
    await unmute.getByRole("combobox", { name: "Which mute", exact: true }).selectOption(
      "Général",
    );
    await assertAccessible(mod.page, "the moderator panel with the unmute dialog open");
    await unmute.getByRole("button", { name: "Unmute dave", exact: true }).click();
    await panel.getByText("dave may write in Général again.").waitFor();
    await eventually(async () => assert.equal(await composer(dave.page).isDisabled(), false));
    await send(dave.page, "thank you");
    await seeMessage(mod.page, "thank you");
  },
);

browserTest(
  "slow mode refuses a second message: the composer says when it may send again",
  async (t) => {
    await users(t.srv, "erin");
    const erin = await member(t, "erin");
    const mod = await admin(t);
    const panel = moderation(mod.page);
    await panel.getByRole("combobox", { name: "Salon", exact: true }).selectOption("Général");
    await panel.getByRole("textbox", { name: "Seconds between messages", exact: true }).fill("30");
    await panel.getByRole("button", { name: "Set slow mode", exact: true }).click();
    await panel.getByText("Slow mode in Général: one message every 30 s per member.").waitFor();

    // salon_settings reaches the member at once.
    await erin.page.getByText(/^Slow mode: one message every 30 s\./).waitFor();
    await send(erin.page, "first under slow mode");
    await seeMessage(mod.page, "first under slow mode");
    await erin.page.getByText(/You may send again in (30|29|28) s\./).waitFor();
    await composer(erin.page).fill("second too soon");
    assert.equal(
      await erin.page.getByRole("button", { name: "Send", exact: true }).isDisabled(),
      true,
      "Send is disabled while waiting",
    );
    await composer(erin.page).press("Enter");
    await erin.page.getByText(/Slow mode: you may send again in \d+ s; this was not sent\./)
      .waitFor();
    assert.equal(await composer(erin.page).inputValue(), "second too soon", "the draft is kept");
    // The moderator, who is not slowed, writes twice; the refused message never arrived.
    await send(mod.page, "moderators are not slowed 1");
    await send(mod.page, "moderators are not slowed 2");
    await seeMessage(erin.page, "moderators are not slowed 2");
    assert.equal(await messageItem(mod.page, "second too soon").count(), 0);
    await assertAccessible(erin.page, "the composer under slow mode");
  },
);

browserTest(
  "an edit is seen live by another member, with (edited) and the new text; the author deletes",
  async (t) => {
    await users(t.srv, "fay", "gus");
    const fay = await member(t, "fay");
    const gus = await member(t, "gus");
    await send(fay.page, "Meet at 5");
    await seeMessage(gus.page, "Meet at 5");

    // Up arrow in the empty composer edits one's last message.
    await composer(fay.page).press("ArrowUp");
    await eventually(async () => assert.equal(await composer(fay.page).inputValue(), "Meet at 5"));
    await fay.page.getByText("Editing your message.").waitFor();
    await composer(fay.page).fill("Meet at 6");
    await composer(fay.page).press("Enter");
    await seeMessage(gus.page, "Meet at 6");
    await messageItem(gus.page, "Meet at 6").getByText("(edited)").waitFor();
    assert.equal(await messageItem(gus.page, "Meet at 5").count(), 0, "the old text is gone");
    await messageItem(fay.page, "Meet at 6").getByText("(edited)").waitFor();
    assert.equal(await composer(fay.page).inputValue(), "", "the composer is empty again");

    // Edit from the menu, then Escape leaves it unsent.
    await act(fay.page, "Meet at 6", "Edit");
    await eventually(async () => assert.equal(await composer(fay.page).inputValue(), "Meet at 6"));
    await composer(fay.page).press("Escape");
    await eventually(async () => assert.equal(await composer(fay.page).inputValue(), ""));

    // Delete, after a confirmation.
    await act(fay.page, "Meet at 6", "Delete");
    const confirm = fay.page.getByRole("dialog", { name: "Delete your message?", exact: true });
    await confirm.waitFor();
    await assertAccessible(fay.page, "the delete confirmation");
    await confirm.getByRole("button", { name: "Delete message", exact: true }).click();
    await log(gus.page).getByText("Message deleted").waitFor();
    await log(fay.page).getByText("Message deleted").waitFor();
    assert.equal(await messageItem(gus.page, "Meet at 6").count(), 0);
    // A reload shows the tombstone from history too.
    await gus.page.reload();
    await openSalon(gus.page, "Général");
    await log(gus.page).getByText("Message deleted").waitFor();
  },
);

browserTest(
  "a report reaches a moderator, who sees it in context and deletes the message: members see the tombstone",
  async (t) => {
    await users(t.srv, "hal", "ivy");
    const hal = await member(t, "hal");
    const ivy = await member(t, "ivy");
    const mod = await admin(t);
    await send(hal.page, "before the bad one");
    await send(hal.page, "buy cheap pills here");
    await send(hal.page, "after the bad one");
    await seeMessage(ivy.page, "after the bad one");

    await act(ivy.page, "buy cheap pills here", "Report");
    const dialog = ivy.page.getByRole("dialog", { name: "Report Hal's message", exact: true });
    await dialog.getByRole("textbox", { name: "Reason", exact: true }).fill("spam");
    await assertAccessible(ivy.page, "the report dialog");
    await dialog.getByRole("button", { name: "Send report", exact: true }).click();
    await ivy.page.getByText("Reported. The moderators will look at it.").waitFor();
    // Only others' messages can be reported.
    const own = messageItem(hal.page, "buy cheap pills here");
    await own.getByRole("button", { name: "Message actions", exact: true }).click();
    assert.equal(await own.getByRole("button", { name: "Report", exact: true }).count(), 0);
    await hal.page.keyboard.press("Escape");

    const panel = moderation(mod.page);
    const report = panel.getByRole("listitem").filter({ hasText: "Ivy reported Hal in Général" });
    await report.waitFor();
    await report.getByText("Reason: spam").waitFor();
    await report.getByText("buy cheap pills here").first().waitFor();
    await report.getByRole("button", { name: "Show in context", exact: true }).click();
    const context = report.getByRole("list", { name: /^Context of report/ });
    await context.getByText(literal("before the bad one")).waitFor();
    await context.getByText(literal("after the bad one")).waitFor();
    await assertAccessible(mod.page, "the report queue with a report in context");

    await report.getByRole("button", { name: "Delete message", exact: true }).click();
    await panel.getByText("Message deleted.").waitFor();
    for (const tab of [ivy, hal, mod]) {
      await messageItem(tab.page, "Message deleted").waitFor();
      assert.equal(await messageItem(tab.page, "buy cheap pills here").count(), 0);
    }

    // The moderator deletes another message from its menu, with a reason.
    await send(hal.page, "another bad one");
    await seeMessage(mod.page, "another bad one");
    await act(mod.page, "another bad one", "Delete");
    const confirm = mod.page.getByRole("dialog", { name: "Delete Hal's message?", exact: true });
    await confirm.getByRole("textbox", { name: /^Reason/ }).fill("still spam");
    await confirm.getByRole("button", { name: "Delete message", exact: true }).click();
    await eventually(async () =>
      assert.equal(await log(ivy.page).getByText("Message deleted").count(), 2)
    );

    await report.getByRole("textbox", { name: "Note", exact: true }).fill("deleted, warned");
    await report.getByRole("button", { name: "Resolve", exact: true }).click();
    await panel.getByText(/^Report \d+ resolved\.$/).waitFor();
    await panel.getByText("No open report.").waitFor();
  },
);

/** The page's width beyond 360 px (0: nothing overflows sideways). */
async function overflow360(page: Page): Promise<number> {
  return (await page.evaluate("document.documentElement.scrollWidth") as number) - 360;
}

browserTest(
  "keyboard, dark theme, 360 px: the message actions, the report dialog and the report queue",
  async (t) => {
    await users(t.srv, "uma", "vic");
    const uma = await member(t, "uma");
    await send(uma.page, "a rude remark");
    const vic = await t.open("vic");
    await vic.page.setViewportSize({ width: 360, height: 740 });
    await vic.page.emulateMedia({ colorScheme: "dark" });
    await home(vic.page, t.url);
    await submitLogin(vic.page, "vic", pw("vic"));
    await seeMessage(vic.page, "a rude remark");

    // The actions open with Enter, focus their first item, and Escape gives the focus back.
    const toggle = messageItem(vic.page, "a rude remark")
      .getByRole("button", { name: "Message actions", exact: true });
    await toggle.focus();
    await vic.page.keyboard.press("Enter");
    const report = messageItem(vic.page, "a rude remark")
      .getByRole("button", { name: "Report", exact: true });
    await eventually(async () =>
      assert.equal(await vic.page.evaluate("document.activeElement?.textContent"), "Report")
    );
    assert.equal(await overflow360(vic.page), 0, "the open actions overflow at 360 px");
    await vic.page.keyboard.press("Escape");
    await report.waitFor({ state: "detached" });
    assert.equal(
      await vic.page.evaluate("document.activeElement?.getAttribute('aria-label')"),
      "Message actions",
      "Escape gives the focus back to the actions button",
    );
    await vic.page.keyboard.press("Enter");
    await eventually(async () =>
      assert.equal(await vic.page.evaluate("document.activeElement?.textContent"), "Report")
    );
    await vic.page.keyboard.press("Enter");
    const dialog = vic.page.getByRole("dialog", { name: "Report Uma's message", exact: true });
    await dialog.waitFor();
    await vic.page.keyboard.type("insulting");
    assert.equal(await overflow360(vic.page), 0, "the report dialog overflows at 360 px");
    await assertAccessible(vic.page, "the report dialog in the dark theme at 360 px");
    await dialog.getByRole("button", { name: "Send report", exact: true }).focus();
    await vic.page.keyboard.press("Enter");
    await vic.page.getByText("Reported. The moderators will look at it.").waitFor();

    const mod = await t.open("admin");
    await mod.page.setViewportSize({ width: 360, height: 740 });
    await mod.page.emulateMedia({ colorScheme: "dark" });
    await home(mod.page, t.url);
    await submitLogin(mod.page, "admin", ADMIN_PASSWORD);
    await composer(mod.page).waitFor();
    // At 360 px the panel is in the sidebar, behind "Conversations".
    await control(mod.page, "Conversations").click();
    const panel = await openModeration(mod.page);
    const entry = panel.getByRole("listitem").filter({ hasText: "Vic reported Uma in Général" });
    await entry.getByRole("button", { name: "Show in context", exact: true }).click();
    await entry.getByRole("list", { name: /^Context of report/ }).waitFor();
    assert.equal(await overflow360(mod.page), 0, "the report queue overflows at 360 px");
    await assertAccessible(mod.page, "the report queue in the dark theme at 360 px");
  },
);
