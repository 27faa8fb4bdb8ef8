/**
 * The HTTP API's cost on a given server: N concurrent clients (keep-alive)
 * call `GET /api/me` with a bearer token (a token lookup, then JSON) and
 * `GET /healthz` for a fixed time; prints requests per second and latency
 * percentiles. Used to compare the `node:http` transport with `Deno.serve`
 * (docs/benchmarks.md, "HTTP API").
 *
 * Usage: deno run -A bench/http_api.ts URL [seconds] [concurrency]
 *
 * @module
 */

const [url, secondsArg, concurrencyArg] = Deno.args;
if (!url) {
  console.error("usage: deno run -A bench/http_api.ts URL [seconds] [concurrency]");
  Deno.exit(2);
}
const seconds = Number(secondsArg ?? 5);
const concurrency = Number(concurrencyArg ?? 32);
const json = { "content-type": "application/json" };
const name = `http${Date.now() % 1_000_000}`;
await (await fetch(`${url}/api/register`, {
  method: "POST",
  headers: json,
  body: JSON.stringify({ username: name, alias: name, password: "http-bench-password" }),
})).body?.cancel();
const login = await fetch(`${url}/api/login`, {
  method: "POST",
  headers: json,
  body: JSON.stringify({ username: name, password: "http-bench-password" }),
});
const { token } = await login.json();
if (!token) throw new Error(`login failed: ${login.status}`);

async function run(path: string, headers: Record<string, string>) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const res = await fetch(`${url}${path}`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      latencies.push(performance.now() - t);
    }
  }));
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    path,
    rps: Math.round(latencies.length / seconds),
    p50: at(0.5).toFixed(2),
    p99: at(0.99).toFixed(2),
  };
}

for (
  const r of [await run("/healthz", {}), await run("/api/me", { authorization: `Bearer ${token}` })]
) {
  console.log(`${r.path}\t${r.rps} req/s\tp50 ${r.p50} ms\tp99 ${r.p99} ms`);
}
