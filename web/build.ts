/**
 * Builds the browser client into web/dist/: the bundle (`deno bundle
 * --platform browser --minify`) and the style sheet under content-hashed
 * names in web/dist/assets/, and index.html pointing at them; the same for
 * the inspector page (web/inspector/main.tsx, inspector.css ->
 * inspector.html). Nothing is
 * fetched from outside: the npm packages come from node_modules.
 *
 * Skipped when web/dist/ was built from the same sources (a stamp of their
 * hash), so `deno task start` on a read-only image built beforehand writes
 * nothing.
 *
 * Run: `deno task build` (`start` and `test` run it first).
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const WEB = new URL("web/", ROOT);
const DIST = new URL("web/dist/", ROOT);
const ASSETS = new URL("assets/", DIST);

async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every file the bundle depends on, relative to the root, sorted. */
async function sources(): Promise<string[]> {
  const out: string[] = ["deno.json", "deno.lock"];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory && path !== "web/dist") await walk(`${path}/`);
      else if (e.isFile && /\.(ts|tsx|css|html)$/.test(e.name)) out.push(path);
    }
  };
  await walk("web/");
  await walk("protocol/");
  await walk("lib/"); // the inspector's statechart layout
  return out.sort();
}

async function stampOf(files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const f of files) parts.push(f, await sha256(await Deno.readFile(new URL(f, ROOT))));
  return await sha256(parts.join("\n"));
}

async function readText(url: URL): Promise<string | null> {
  try {
    return await Deno.readTextFile(url);
  } catch {
    return null;
  }
}

/** Bundles one entry (relative to web/) for the browser; returns the bytes. */
async function bundle(entry: string, out: string): Promise<Uint8Array> {
  const bundled = new URL(`.build/${out}`, DIST);
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      "--output",
      bundled.pathname,
      new URL(entry, WEB).pathname,
    ],
    cwd: ROOT.pathname,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) throw new Error(`deno bundle of web/${entry} failed (exit ${code}); see above`);
  return await Deno.readFile(bundled);
}

/** Builds web/dist/ unless it is up to date; returns what it did. */
export async function build(): Promise<"built" | "up to date"> {
  const stamp = await stampOf(await sources());
  if ((await readText(new URL("stamp", DIST))) === stamp) return "up to date";

  await Deno.mkdir(new URL(".build/", DIST), { recursive: true });
  const js = await bundle("main.tsx", "app.js");
  const inspectorJs = await bundle("inspector/main.tsx", "inspector.js");
  const css = await Deno.readFile(new URL("styles.css", WEB));
  const inspectorCss = await Deno.readFile(new URL("inspector/inspector.css", WEB));
  const script = `app-${(await sha256(js)).slice(0, 12)}.js`;
  const styles = `styles-${(await sha256(css)).slice(0, 12)}.css`;
  const inspectorScript = `inspector-${(await sha256(inspectorJs)).slice(0, 12)}.js`;
  const inspectorStyles = `inspector-${(await sha256(inspectorCss)).slice(0, 12)}.css`;
  await Deno.remove(ASSETS, { recursive: true }).catch(() => {});
  await Deno.mkdir(ASSETS, { recursive: true });
  await Deno.writeFile(new URL(script, ASSETS), js);
  await Deno.writeFile(new URL(styles, ASSETS), css);
  await Deno.writeFile(new URL(inspectorScript, ASSETS), inspectorJs);
  await Deno.writeFile(new URL(inspectorStyles, ASSETS), inspectorCss);
  const html = (await Deno.readTextFile(new URL("index.html", WEB)))
    .replace("%SCRIPT%", script).replace("%STYLES%", styles);
  await Deno.writeTextFile(new URL("index.html", DIST), html);
  // The inspector page (/admin/inspector): its own bundle, the client's styles and its own.
  const inspectorHtml = (await Deno.readTextFile(new URL("inspector/inspector.html", WEB)))
    .replace("%SCRIPT%", inspectorScript).replace("%STYLES%", styles)
    .replace("%INSPECTOR_STYLES%", inspectorStyles);
  await Deno.writeTextFile(new URL("inspector.html", DIST), inspectorHtml);
  await Deno.remove(new URL(".build/", DIST), { recursive: true });
  await Deno.writeTextFile(new URL("stamp", DIST), stamp);
  return "built";
}

if (import.meta.main) {
  const started = performance.now();
  const what = await build();
  console.log(`web/dist: ${what} (${Math.round(performance.now() - started)} ms)`);
}
