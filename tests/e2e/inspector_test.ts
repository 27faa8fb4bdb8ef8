/**
 * The inspector page in Chromium (issue 12, item 2): the admin opens
 * /admin/inspector and follows the live stream; a user's socket appears as a
 * connection actor in awaitingHello, becomes active after the hello (its
 * statechart highlights the current state), is kicked through the admin API:
 * the sanction actor appears and the connection ends. A moderator's page
 * polls and says that live events need an admin. axe finds nothing serious.
 */

import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import type { Locator, Page } from "playwright-core";
import { ADMIN_PASSWORD, browserTest } from "./browser.ts";
import { alias, pw, users } from "../ws_users.ts";
import { loginHttp } from "../ws_client.ts";
import { assertAccessible, submitLogin } from "./ui.ts";

function tree(page: Page): Locator {
  return page.getByRole("region", { name: "Actors", exact: true });
}

function diagram(page: Page, machine: string): Locator {
  return page.getByRole("group", { name: `Statechart of ${machine}`, exact: true });
}

/** The name of the highlighted state in the diagram of `machine`. */
async function current(page: Page, machine: string): Promise<string[]> {
  const nodes = diagram(page, machine).locator('[aria-current="true"]');
  return (await nodes.evaluateAll((els) =>
    els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute("aria-label"))
  )) as string[];
}

browserTest(
  "the admin watches a connection go from awaitingHello to active, kicks it, sees the sanction and the end",
  async (t) => {
    await users(t.srv, "dave");
    const admin = await t.open("admin");
    await admin.page.goto(`${t.url}/admin/inspector`);
    await submitLogin(admin.page, "admin", ADMIN_PASSWORD);
    await admin.page.getByRole("status").filter({ hasText: "Live." }).waitFor();
    await tree(admin.page).getByRole("button", { name: /^server server / }).waitFor();

    // A raw socket that has not said hello yet: its connection actor waits for it.
    const dave = await t.srv.connect("dave");
    const daveConnection = tree(admin.page).getByRole("button", {
      name: /^connection \S+ awaitingHello$/,
    });
    await daveConnection.waitFor();
    await daveConnection.click();
    await admin.page.getByRole("heading", { level: 2, name: /^connection / }).waitFor();
    await diagram(admin.page, "connection").waitFor();
    assert.deepEqual(await current(admin.page, "connection"), [
      "state awaitingHello (current)",
    ]);

    dave.send({ type: "hello", username: "dave", password: pw("dave") });
    await dave.next((f) => f.type === "welcome", undefined, "dave's welcome");
    const active = tree(admin.page).getByRole("button", { name: /^connection \S+ active dave$/ });
    await active.waitFor();
    // The selection stays on the same actor, and its diagram follows it live.
    assert.equal(await active.getAttribute("aria-current"), "true");
    await admin.page.locator(".details dd.value").filter({ hasText: /^active$/ }).waitFor();
    assert.deepEqual(await current(admin.page, "connection"), ["state active (current)"]);
    const events = admin.page.locator(".details ol.events");
    await events.filter({ hasText: "→ active" }).waitFor();
    await assertAccessible(admin.page, "the inspector with a connection selected");

    // Filters: by machine and by user.
    await admin.page.getByRole("combobox", { name: "Machine", exact: true }).selectOption(
      "connection",
    );
    await tree(admin.page).getByRole("button", { name: /^salon / }).first().waitFor({
      state: "detached",
    });
    await admin.page.getByRole("combobox", { name: "Machine", exact: true }).selectOption("");
    await admin.page.getByRole("textbox", { name: "User", exact: true }).fill("nobody");
    await tree(admin.page).getByText("No actor matches.").waitFor();
    await admin.page.getByRole("textbox", { name: "User", exact: true }).fill("");

    // The kick: a sanction actor appears, the connection ends.
    const token = await loginHttp(t.url, "admin", ADMIN_PASSWORD);
    const res = await fetch(`${t.url}/admin/users/dave/kick`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ minutes: 5 }),
    });
    assert.equal(res.status, 200, await res.text());
    await dave.waitClosed();
    const sanction = tree(admin.page).getByRole("button", {
      name: /^sanction \S+ active\.kicked dave/,
    });
    await sanction.waitFor();
    await tree(admin.page).getByRole("button", {
      name: /^connection \S+ closed dave \((done|stopped)\)$/,
    })
      .waitFor();
    assert.deepEqual(await current(admin.page, "connection"), ["state closed (current)"]);
    await sanction.click();
    await diagram(admin.page, "sanction").waitFor();
    assert.deepEqual((await current(admin.page, "sanction")).sort(), [
      "state active (current)",
      "state active.kicked (current)",
    ]);
    await assertAccessible(admin.page, "the inspector with a sanction selected");
    assert.equal(alias("dave"), "Dave");
  },
);

// The issue's "done when": a kick timer appears and expires, seen live. The actors' timers run on
// a simulated clock: five minutes pass in one step, no waiting.
const kickClock = new SimulatedClock();
browserTest(
  "the admin sees a kick's sanction actor appear and expire when its five minutes are up",
  async (t) => {
    await users(t.srv, "erin");
    const admin = await t.open("admin");
    await admin.page.goto(`${t.url}/admin/inspector`);
    await submitLogin(admin.page, "admin", ADMIN_PASSWORD);
    await admin.page.getByRole("status").filter({ hasText: "Live." }).waitFor();
    const erin = await t.srv.connect("erin");
    erin.send({ type: "hello", username: "erin", password: pw("erin") });
    await erin.next((f) => f.type === "welcome", undefined, "erin's welcome");
    const token = await loginHttp(t.url, "admin", ADMIN_PASSWORD);
    const res = await fetch(`${t.url}/admin/users/erin/kick`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ minutes: 5 }),
    });
    assert.equal(res.status, 200, await res.text());
    await erin.waitClosed();
    const kicked = tree(admin.page).getByRole("button", {
      name: /^sanction \S+ active\.kicked erin/,
    });
    await kicked.waitFor();
    await kicked.click();
    await diagram(admin.page, "sanction").waitFor();
    kickClock.increment(5 * 60_000 - 1);
    // Not yet: one millisecond is left.
    assert.equal(await kicked.count(), 1);
    kickClock.increment(1);
    await tree(admin.page).getByRole("button", { name: /^sanction \S+ expired erin/ }).waitFor();
    assert.deepEqual(await current(admin.page, "sanction"), ["state expired (current)"]);
  },
  { start: { hub: { clock: kickClock } } },
);

browserTest(
  "a moderator's inspector polls GET /admin/actors and says live events need an admin",
  async (t) => {
    await users(t.srv, "moira");
    const token = await loginHttp(t.url, "admin", ADMIN_PASSWORD);
    const res = await fetch(`${t.url}/admin/users/moira/role`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role: "moderator" }),
    });
    assert.equal(res.status, 200, await res.text());
    const mod = await t.open("mod");
    await mod.page.goto(`${t.url}/admin/inspector`);
    await submitLogin(mod.page, "moira", pw("moira"));
    await mod.page.getByRole("status").filter({ hasText: "Live events need an admin login." })
      .waitFor();
    const server = tree(mod.page).getByRole("button", { name: /^server server / });
    await server.waitFor();
    await server.click();
    await diagram(mod.page, "server").waitFor();
    assert.deepEqual((await current(mod.page, "server")).sort(), [
      "state lifecycle (current)",
      "state lifecycle.running (current)",
      "state presence (current)",
      "state presence.idle (current)",
    ]);
    await assertAccessible(mod.page, "the moderator's inspector");
  },
);

browserTest("a member cannot use the inspector", async (t) => {
  await users(t.srv, "meg");
  const tab = await t.open("meg");
  await tab.page.goto(`${t.url}/admin/inspector`);
  await submitLogin(tab.page, "meg", pw("meg"));
  await tab.page.getByText("The inspector needs a moderator or admin login.").waitFor();
  await assertAccessible(tab.page, "the inspector's login");
});
