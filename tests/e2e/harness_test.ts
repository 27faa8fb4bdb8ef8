/**
 * The e2e harness itself: console errors fail a test and leave a screenshot,
 * allowed ones do not, and axe scans a page under a strict
 * Content-Security-Policy (the one the client is served with) and reports what
 * it finds.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest, FAILURES_DIR, runBrowserTest } from "./browser.ts";
import { assertAccessible } from "./ui.ts";

const STRICT_CSP = "default-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'";

/** Serves `body` at `url/fixture` with a strict CSP, through the page's router. */
async function showFixture(page: Page, url: string, body: string): Promise<void> {
  await page.route(`${url}/fixture`, (route) =>
    route.fulfill({
      status: 200,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": STRICT_CSP,
      },
      body,
    }));
  await page.goto(`${url}/fixture`);
}

const PAGE = (main: string) =>
  `<!doctype html><html lang="en"><head><title>Fixture</title></head><body><main>${main}</main></body></html>`;

browserTest(
  "harness: axe runs under a strict CSP and reports a nameless button as critical",
  async (t) => {
    const tab = await t.open("page");
    await showFixture(tab.page, t.url, PAGE("<h1>Fine</h1><p>Nothing wrong here.</p>"));
    await assertAccessible(tab.page, "a clean page");
    await showFixture(tab.page, t.url, PAGE("<h1>Broken</h1><button></button>"));
    await assert.rejects(
      assertAccessible(tab.page, "a page with a nameless button"),
      /critical button-name/,
    );
    // Inline script under this CSP is refused: the browser says so on the console.
    t.allowConsoleError(/Content Security Policy/, "the inline script below is refused on purpose");
    await showFixture(tab.page, t.url, PAGE("<script>document.title='ran'</script>"));
    assert.equal(await tab.page.title(), "Fixture");
  },
);

browserTest("harness: a console error fails the test and leaves a screenshot", async () => {
  const name = `harness self check ${crypto.randomUUID()}`;
  await assert.rejects(
    runBrowserTest(name, async (t) => {
      const tab = await t.open("tab");
      await tab.page.setContent("<p>hello</p>");
      await tab.page.evaluate(() => console.error("something broke"));
    }, {}),
    /tab: console\.error: something broke/,
  );
  const base = name.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 80);
  const file = new URL(`${base}-tab.png`, FAILURES_DIR);
  assert.ok((await Deno.stat(file)).size > 0, "a screenshot is saved");
  await Deno.remove(file);
});

browserTest(
  "harness: an allowed console error passes, an uncaught exception does not",
  async () => {
    await runBrowserTest("harness allowed", async (t) => {
      t.allowConsoleError(/expected noise/, "declared by the test");
      const tab = await t.open("tab");
      await tab.page.setContent("<p>hello</p>");
      await tab.page.evaluate(() => console.error("expected noise"));
    }, {});
    const name = `harness uncaught ${crypto.randomUUID()}`;
    await assert.rejects(
      runBrowserTest(name, async (t) => {
        const tab = await t.open("tab");
        await tab.page.setContent("<p>hello</p>");
        await tab.page.evaluate(() =>
          setTimeout(() => {
            throw new Error("boom");
          })
        );
        await tab.page.waitForTimeout(200);
      }, {}),
      /tab: uncaught: boom/,
    );
    const base = name.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 80);
    await Deno.remove(new URL(`${base}-tab.png`, FAILURES_DIR));
  },
);
