/**
 * What opening the browser client costs the other members of a large salon
 * (issue 11, "Performance"): N members online in Général (large: more than
 * CAUSERIE_PRESENCE_SALON_MAX members), then one more user logs in through
 * the client in Chromium and opens Général. Counts, by type, the frames and
 * bytes the N members receive during the client's first seconds, against a
 * quiet window of the same length before it.
 *
 * `deno run -A bench/client_presence.ts [N=1000] [windowSeconds=12]`
 * (needs Chromium: CAUSERIE_CHROMIUM or /usr/bin/chromium; run `deno task build` first)
 *
 * @module
 */

import { launchChromium } from "../tests/e2e/browser.ts";
import { home, logIn, openSalon } from "../tests/e2e/ui.ts";
import { LIFTED } from "./run.ts";

const N = Number(Deno.args[0] ?? 1000);
const WINDOW_MS = Number(Deno.args[1] ?? 12) * 1000;
const PASSWORD = "presence-bench-1";
const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const dir = await Deno.makeTempDir({ prefix: "causerie-client-presence-" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "main.ts"],
  env: {
    ...LIFTED,
    CAUSERIE_PORT: String(port),
    CAUSERIE_DB: `sqlite:${dir}/db.sqlite`,
    CAUSERIE_ADMIN_SOCKET: `${dir}/admin/a.sock`,
  },
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.body?.cancel(), () => "down") !== "down") {
      break;
    }
    await sleep(100);
  }
  const names = Array.from({ length: N + 1 }, (_, i) => `pres${i}`);
  for (let i = 0; i < names.length; i += 32) {
    await Promise.all(
      names.slice(i, i + 32).map(async (u) => {
        const r = await fetch(`${base}/api/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: u, alias: `P ${u}`, password: PASSWORD }),
        });
        await r.body?.cancel();
        if (r.status !== 201) throw new Error(`register ${u}: ${r.status}`);
      }),
    );
  }
  // N members online, counting what they receive.
  let phase: "quiet" | "client" | "off" = "off";
  const seen = {
    quiet: new Map<string, [number, number]>(),
    client: new Map<string, [number, number]>(),
  };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      names.slice(i, Math.min(i + 50, N)).map((u) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          sockets.push(ws);
          ws.onopen = () =>
            ws.send(JSON.stringify({ type: "hello", username: u, password: PASSWORD }));
          ws.onerror = () => reject(new Error(`socket of ${u} failed`));
          ws.onmessage = (e) => {
            const text = String(e.data);
            const type = JSON.parse(text).type as string;
            if (type === "welcome") resolve();
            if (phase === "off") return;
            const m = seen[phase];
            const [n, bytes] = m.get(type) ?? [0, 0];
            m.set(type, [n + 1, bytes + text.length]);
          };
        })
      ),
    );
  }
  await sleep(11_000); // past the login wave's presence and salon_stats windows
  phase = "quiet";
  await sleep(WINDOW_MS);
  phase = "client";
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    await home(page, base);
    await logIn(page, names[N], PASSWORD);
    await openSalon(page, "Général");
    await sleep(WINDOW_MS);
  } finally {
    await browser.close();
  }
  phase = "off";
  const show = (m: Map<string, [number, number]>) =>
    [...m].map(([t, [n, b]]) => `${t} ${n} frames ${b} bytes`).join(", ") || "nothing";
  console.log(`${N} members online in Général (large); window ${WINDOW_MS / 1000} s`);
  console.log(`  quiet window: ${show(seen.quiet)}`);
  console.log(`  while one client logs in and opens Général: ${show(seen.client)}`);
  for (const ws of sockets) ws.close();
  await sleep(500);
} finally {
  server.kill("SIGKILL");
  await server.status;
  await Deno.remove(dir, { recursive: true });
}
