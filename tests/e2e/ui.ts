/**
 * What a person does in the browser client, written only against the
 * accessible names the client promises (issue 11, item 7): the login form's
 * "Username", "Password" and "Log in"; "Create an account" and the register
 * form's "Username", "Alias", "Password" and "Register"; the "Salons"
 * navigation whose entries' names start with the salon's name; the "Message"
 * textbox; the conversation's `role="log"`; "Join" / "Request to join"; the
 * "Moderation" region with "Accept" / "Reject"; notices as `role="alert"` and
 * the connection state as `role="status"`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { Locator, Page } from "playwright-core";
import { UI_TIMEOUT_MS } from "./browser.ts";

/** A regular expression matching `text` literally. */
export function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

/** A clickable control named `name`: a button or a link (the client may use either). */
export function control(scope: Page | Locator, name: string | RegExp): Locator {
  const exact = typeof name === "string";
  return scope.getByRole("button", { name, exact })
    .or(scope.getByRole("link", { name, exact }))
    .first();
}

/** Opens the client's page. */
export async function home(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
}

/** The login form's button: visible on the login page. */
export function logInButton(page: Page): Locator {
  return page.getByRole("button", { name: "Log in", exact: true });
}

/** The navigation region listing the salons: visible once logged in. */
export function salons(page: Page): Locator {
  return page.getByRole("navigation", { name: "Salons", exact: true });
}

/** Fills the login form and submits it (the page must show it). */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await logInButton(page).click();
}

/** Logs in through the login form and waits for the salon list. */
export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await submitLogin(page, username, password);
  await salons(page).waitFor();
}

/** Registers through "Create an account" and waits for the salon list. */
export async function registerInBrowser(
  page: Page,
  username: string,
  alias: string,
  password: string,
): Promise<void> {
  await control(page, "Create an account").click();
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Alias", { exact: true }).fill(alias);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Register", exact: true }).click();
  await salons(page).waitFor();
}

/** The salon list's entry of `salon` (its accessible name starts with the salon's name). */
export function salonEntry(page: Page, salon: string): Locator {
  return control(salons(page), new RegExp(`^${literal(salon).source}`));
}

/** Opens a salon from the salon list. */
export async function openSalon(page: Page, salon: string): Promise<void> {
  await salonEntry(page, salon).click();
}

/** The message input. */
export function composer(page: Page): Locator {
  return page.getByRole("textbox", { name: "Message", exact: true });
}

/** The open conversation's messages. */
export function log(page: Page): Locator {
  return page.getByRole("log");
}

/** Types `text` in the composer and sends it with Enter. */
export async function send(page: Page, text: string): Promise<void> {
  const input = composer(page);
  await input.fill(text);
  await input.press("Enter");
}

/** The renderings of a message in the open conversation (smallest elements containing `text`). */
export function messages(page: Page, text: string): Locator {
  return log(page).getByText(text);
}

/** Waits until `text` shows in the open conversation (for at most `timeoutMs`). */
export async function seeMessage(
  page: Page,
  text: string,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<void> {
  await messages(page, text).first().waitFor({ timeout: timeoutMs });
}

/** Asserts that `text` shows exactly once in the open conversation. */
export async function assertShownOnce(page: Page, text: string, who: string): Promise<void> {
  const n = await messages(page, text).count();
  assert.equal(n, 1, `${who} should see "${text}" exactly once, sees it ${n} time(s)`);
}

/** The moderator panel. */
export function moderation(page: Page): Locator {
  return page.getByRole("region", { name: "Moderation", exact: true });
}

/** Shows the moderator panel: already there, or behind a control named "Moderation". */
export async function openModeration(page: Page): Promise<Locator> {
  const panel = moderation(page);
  const opener = control(page, "Moderation");
  // The panel appears once the welcome says the user moderates: wait for it or for its opener.
  await panel.or(opener).first().waitFor({ timeout: UI_TIMEOUT_MS });
  if (!(await panel.isVisible())) await opener.click();
  await panel.waitFor();
  return panel;
}

/** Calls `check` until it stops throwing, for at most `timeoutMs`; then rethrows its error. */
export async function eventually(
  check: () => Promise<void>,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let axeSource: string | undefined;

/** axe-core's browser bundle. */
function axeScript(): string {
  axeSource ??= Deno.readTextFileSync(
    createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  );
  return axeSource;
}

/** One axe violation, as reported. */
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on the page and fails on any serious or critical violation,
 * listing them. axe is evaluated through the DevTools protocol
 * (`page.evaluate`), which the page's Content-Security-Policy does not govern,
 * so the page is scanned exactly as served (no `bypassCSP`, no inline script).
 */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const installed = await page.evaluate("typeof window.axe === 'object'");
  if (!installed) await page.evaluate(axeScript());
  // A string: the test files are type-checked without the DOM library.
  const violations = await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)",
  ) as AxeViolation[];
  const grave = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    grave.map((v) =>
      `${v.impact} ${v.id}: ${v.help} (${
        v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(", ")
      })`
    ),
    [],
    `axe finds serious or critical violations on ${what}`,
  );
}
