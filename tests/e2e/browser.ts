/**
 * The end-to-end harness: the real server (started per test, serving the
 * browser client at `/`) driven in the system's Chromium through
 * `playwright-core`.
 *
 * Chromium is found at `CAUSERIE_CHROMIUM`, else `/usr/bin/chromium` or
 * `/usr/bin/chromium-browser`. Without it, {@link browserTest} registers the
 * tests as ignored with the reason in their names (like `mysqlTest`); when
 * `CAUSERIE_CHROMIUM` names a file that is not there, the tests fail instead
 * (`.ci/run` sets it, so CI never skips them silently).
 *
 * Every test gets its own server, its own browser, and as many browser
 * contexts as it opens; each page's console errors and uncaught exceptions are
 * collected and must be none at the end (unless the test declares one the
 * browser itself logs, with {@link E2E.allowConsoleError}); on failure every
 * open page is saved as a PNG in `tests/e2e/failures/` (git-ignored).
 *
 * @module
 */

import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { startTestServer, type TestServer } from "../ws_client.ts";
import type { StartOptions } from "../../main.ts";

/** Where failing tests leave their screenshots (git-ignored). */
export const FAILURES_DIR = new URL("./failures/", import.meta.url);

/** The bootstrap admin's password in every e2e server (`CAUSERIE_ADMIN_PASSWORD`). */
export const ADMIN_PASSWORD = "e2e admin password";

/** Chromium's command-line flags: headless, no sandbox (CI runs as root), no GPU. */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"];

/** Default wait for anything the browser should show, ms. */
export const UI_TIMEOUT_MS = 10_000;

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The Chromium executable: `CAUSERIE_CHROMIUM` when set (even if missing: then
 * the tests fail and say so), else the first of the usual Debian paths that
 * exists, else `undefined`.
 */
export function chromiumPath(): string | undefined {
  const named = Deno.env.get("CAUSERIE_CHROMIUM");
  if (named) return named;
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(isFile);
}

/** The Chromium used by the suite, or `undefined` when the browser tests are skipped. */
export const CHROMIUM: string | undefined = chromiumPath();

/** Launches Chromium headless; close it with `browser.close()`. */
export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM === undefined) {
    throw new Error("no Chromium: install Debian's chromium or set CAUSERIE_CHROMIUM");
  }
  if (!isFile(CHROMIUM)) {
    throw new Error(
      `CAUSERIE_CHROMIUM=${CHROMIUM} is not a file: install chromium (apt-get install chromium) or fix the path`,
    );
  }
  return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** One browser tab of a test, in its own context (its own cookies and storage). */
export interface Tab {
  /** The label used in failure messages and screenshot names. */
  label: string;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Alert/confirm/prompt dialogs the page opened (each is dismissed). */
  dialogs: string[];
}

/** What a browser test works with. */
export interface E2E {
  /** The current server (a new one after {@link E2E.restart}). */
  srv: TestServer;
  /** `http://127.0.0.1:PORT` (the same across restarts). */
  url: string;
  browser: Browser;
  /** Opens a new browser context with one page (not navigated yet). */
  open(label: string): Promise<Tab>;
  /**
   * Declares that a console error matching `pattern` is expected in this
   * test because the browser itself logs it (a refused HTTP status, a socket
   * to a stopped server), with `why` for the reader. Nothing else is allowed.
   */
  allowConsoleError(pattern: RegExp, why: string): void;
  /** Stops the server and starts it again on the same port and database file. */
  restart(): Promise<void>;
}

/** Options of a browser test. */
export interface BrowserTestOptions {
  /** Environment of the server, over the harness's defaults. */
  env?: Record<string, string>;
  /**
   * A feature of the client this test needs that is not built yet: the test is
   * registered as ignored with this reason in its name.
   */
  missing?: string;
  /** Start options of the server (a simulated clock for the actors' timers, `hub.clock`). */
  start?: StartOptions;
}

const SKIP_REASON = "no Chromium: install Debian's chromium or set CAUSERIE_CHROMIUM";

/**
 * Registers an end-to-end test: a fresh server on a temporary SQLite file with
 * the admin password {@link ADMIN_PASSWORD}, a fresh Chromium, every context
 * closed and the server stopped afterwards; console errors asserted empty; a
 * screenshot of every open page on failure. Ignored (and named so) without
 * Chromium or when `opts.missing` says a feature is not built yet.
 */
export function browserTest(
  name: string,
  fn: (t: E2E) => Promise<void>,
  opts: BrowserTestOptions = {},
): void {
  const ignore = CHROMIUM === undefined || opts.missing !== undefined;
  const reason = opts.missing ?? (CHROMIUM === undefined ? SKIP_REASON : undefined);
  Deno.test({
    name: reason === undefined ? `e2e: ${name}` : `e2e: ${name} (ignored: ${reason})`,
    ignore,
    fn: () => runBrowserTest(name, fn, opts.env ?? {}, opts.start),
  });
}

/**
 * Runs `fn` as {@link browserTest} does (fresh server and browser, console
 * errors asserted, screenshots on failure, everything closed); exported for
 * the harness's own tests.
 */
export async function runBrowserTest(
  name: string,
  fn: (t: E2E) => Promise<void>,
  env: Record<string, string>,
  start: StartOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "causerie-e2e-" });
  const serverEnv = {
    CAUSERIE_DB: `sqlite:${dir}/causerie.db`,
    CAUSERIE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...env,
  };
  const tabs: Tab[] = [];
  const allowed: { pattern: RegExp; why: string }[] = [];
  let srv: TestServer | undefined;
  let browser: Browser | undefined;
  try {
    srv = await startTestServer(serverEnv, start);
    const port = new URL(srv.url).port;
    browser = await launchChromium();
    const b = browser;
    const t: E2E = {
      srv,
      url: srv.url,
      browser: b,
      async open(label) {
        // en-GB in UTC: times are shown as the tests compute them.
        const context = await b.newContext({
          locale: "en-GB",
          timezoneId: "UTC",
          viewport: { width: 1280, height: 800 },
        });
        context.setDefaultTimeout(UI_TIMEOUT_MS);
        const page = await context.newPage();
        const tab: Tab = { label, context, page, errors: [], dialogs: [] };
        page.on("console", (msg) => {
          if (msg.type() === "error") tab.errors.push(`console.error: ${msg.text()}`);
        });
        page.on("pageerror", (error) => tab.errors.push(`uncaught: ${error.message}`));
        page.on("dialog", (dialog) => {
          tab.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
          dialog.dismiss().catch(() => {/* the page may be gone */});
        });
        tabs.push(tab);
        return tab;
      },
      allowConsoleError(pattern, why) {
        allowed.push({ pattern, why });
      },
      async restart() {
        await t.srv.stop();
        srv = await startTestServer({ ...serverEnv, CAUSERIE_PORT: port });
        t.srv = srv;
      },
    };
    try {
      await fn(t);
      const unexpected = tabs.flatMap((tab) =>
        tab.errors
          .filter((e) => !allowed.some((a) => a.pattern.test(e)))
          .map((e) => `${tab.label}: ${e}`)
      );
      if (unexpected.length > 0) {
        throw new Error(`console errors in the browser:\n  ${unexpected.join("\n  ")}`);
      }
    } catch (error) {
      await screenshots(name, tabs);
      for (const tab of tabs) {
        for (const e of tab.errors) console.error(`e2e: ${tab.label}: ${e}`);
      }
      throw error;
    }
  } finally {
    for (const tab of tabs) await tab.context.close().catch(() => {/* already closed */});
    await browser?.close();
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function screenshots(name: string, tabs: Tab[]): Promise<void> {
  if (tabs.length === 0) return;
  await Deno.mkdir(FAILURES_DIR, { recursive: true });
  const base = name.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 80);
  for (const tab of tabs) {
    const file = new URL(`${base}-${tab.label.replace(/[^A-Za-z0-9]+/g, "_")}.png`, FAILURES_DIR);
    try {
      await tab.page.screenshot({ path: file.pathname, fullPage: true, timeout: 5_000 });
      console.error(`e2e: screenshot of ${tab.label} in ${file.pathname}`);
    } catch (e) {
      console.error(`e2e: no screenshot of ${tab.label}: ${(e as Error).message}`);
    }
  }
}
