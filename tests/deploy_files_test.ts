/**
 * compose.yaml, .env.example, the Dockerfile and the ignore files (issue 13,
 * item 4), checked as text and parsed YAML: no Docker engine runs here, so
 * this is what keeps them right. The commands they run must be the ones the
 * README and CI run (`deno task start`, `deno task -q import-legacy --from`,
 * `deno install --frozen`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse } from "yaml";

const ROOT = new URL("..", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

// deno-lint-ignore no-explicit-any
type Yaml = any;

Deno.test("compose.yaml: Causerie on MariaDB 11 with a healthcheck, volumes, secrets from .env", async () => {
  const compose: Yaml = parse(await read("compose.yaml"));
  const { db, causerie } = compose.services;

  assert.equal(db.image, "mariadb:11");
  assert.deepEqual(db.healthcheck.test, [
    "CMD",
    "healthcheck.sh",
    "--connect",
    "--innodb_initialized",
  ]);
  assert.ok(db.volumes.includes("mariadb-data:/var/lib/mysql"));
  assert.match(db.environment.MARIADB_PASSWORD, /^\$\{MARIADB_PASSWORD:\?.+\}$/);
  assert.match(db.environment.MARIADB_ROOT_PASSWORD, /^\$\{MARIADB_ROOT_PASSWORD:\?.+\}$/);
  assert.equal(db.environment.MARIADB_DATABASE, "causerie");
  assert.equal(db.environment.MARIADB_USER, "causerie");

  assert.deepEqual(causerie.depends_on, { db: { condition: "service_healthy" } });
  assert.equal(
    causerie.environment.CAUSERIE_DB,
    "mysql://causerie:${MARIADB_PASSWORD}@db:3306/causerie",
  );
  assert.deepEqual(causerie.ports, ["127.0.0.1:8080:8080"]);
  assert.ok(causerie.volumes.includes("causerie-data:/data"));
  assert.equal(
    causerie.environment.CAUSERIE_ADMIN_PASSWORD_FILE,
    "/run/secrets/causerie_admin_password",
  );
  assert.deepEqual(causerie.secrets, ["causerie_admin_password"]);
  assert.deepEqual(causerie.ulimits.nofile, { soft: 65536, hard: 65536 });
  assert.equal(causerie.stop_grace_period, "30s");
  assert.equal(causerie.restart, "unless-stopped");
  assert.equal(causerie.command, undefined, "the image's CMD: deno task start");
  assert.deepEqual(Object.keys(compose.volumes).sort(), ["causerie-data", "mariadb-data"]);
  assert.equal(compose.secrets.causerie_admin_password.file, "./admin_password");
});

Deno.test("compose.yaml: the import profile runs the documented command, never by default", async () => {
  const compose: Yaml = parse(await read("compose.yaml"));
  const job = compose.services["import-legacy"];
  assert.deepEqual(job.profiles, ["import"]);
  assert.equal(job.image, compose.services.causerie.image);
  assert.deepEqual(job.depends_on, { db: { condition: "service_healthy" } });
  assert.equal(job.environment.CAUSERIE_DB, compose.services.causerie.environment.CAUSERIE_DB);
  assert.ok(job.volumes.includes("causerie-data:/data"), "it sees a running server's admin socket");
  assert.deepEqual(job.command.slice(0, 4), ["task", "-q", "import-legacy", "--from"]);
  assert.match(job.command[4], /^\$\{LEGACY_MYSQL_URL:\?.+\}$/);
  // The task it runs exists, and the docs give the same command.
  const tasks = JSON.parse(await read("deno.json")).tasks;
  assert.match(tasks["import-legacy"].command, /legacy\/main\.ts$/);
  const ops = await read("docs/operations.md");
  assert.ok(ops.includes("docker compose --profile import run --rm import-legacy"));
  assert.ok(ops.includes("deno task -q import-legacy --from"));
  const readme = await read("README.md");
  assert.ok(readme.includes("deno task -q import-legacy --from"));
  assert.ok(readme.includes("docker compose up -d"));
});

Deno.test(".env.example names every variable compose.yaml reads; .env is never committed", async () => {
  const compose = await read("compose.yaml");
  const used = new Set([...compose.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]));
  const example = await read(".env.example");
  const defined = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
  assert.deepEqual([...used].sort(), [...defined].sort());
  for (const file of [".gitignore", ".dockerignore"]) {
    assert.ok((await read(file)).split("\n").includes(".env"), `${file} lists .env`);
  }
});

Deno.test("Dockerfile: pinned base, frozen install, non-root, healthcheck, SIGTERM", async () => {
  const lines = (await read("Dockerfile")).split("\n");
  const has = (re: RegExp) => lines.some((l) => re.test(l));
  assert.ok(has(/^FROM denoland\/deno:\d+\.\d+\.\d+$/), "base image pinned to an exact version");
  assert.ok(has(/deno install --frozen/), "the lock file is enforced");
  const user = lines.findLast((l) => l.startsWith("USER "));
  assert.equal(user, "USER deno");
  assert.ok(has(/^HEALTHCHECK .*/));
  assert.ok(lines.join("\n").includes("http://127.0.0.1:8080/healthz"));
  assert.ok(has(/^STOPSIGNAL SIGTERM$/));
  assert.ok(has(/^CMD \["task", "start"\]$/), "the same deno task start as the README");
  const readme = await read("README.md");
  assert.ok(readme.includes("deno task start"));
  // The CI runs the same test command as the README.
  assert.ok((await read(".ci/run")).includes("run=(deno task test)"));
  assert.ok(readme.includes("deno task test"));
});

Deno.test("compose.cluster.yaml: two instances on one MariaDB and one Redis, behind Caddy", async () => {
  const cluster: Yaml = parse(await read("compose.cluster.yaml"));
  const single: Yaml = parse(await read("compose.yaml"));
  const { db, redis, lb } = cluster.services;
  assert.deepEqual(Object.keys(cluster.services).sort(), [
    "causerie-1",
    "causerie-2",
    "db",
    "lb",
    "redis",
  ]);
  // The same MariaDB as one instance's compose file.
  assert.deepEqual({ ...db, networks: undefined }, { ...single.services.db, networks: undefined });
  // Redis: official image, no persistence (the bus carries nothing that is not in MySQL), checked.
  assert.match(redis.image, /^redis:\d+$/);
  assert.deepEqual(redis.command, ["redis-server", "--save", "", "--appendonly", "no"]);
  assert.deepEqual(redis.healthcheck.test, ["CMD", "redis-cli", "ping"]);
  assert.equal(redis.ports, undefined, "Redis is not published");
  for (const name of ["causerie-1", "causerie-2"]) {
    const c = cluster.services[name];
    assert.equal(c.image, single.services.causerie.image);
    assert.deepEqual(c.depends_on, {
      db: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
    });
    assert.equal(c.environment.CAUSERIE_DB, single.services.causerie.environment.CAUSERIE_DB);
    assert.equal(c.environment.CAUSERIE_BUS, "redis://redis:6379/0");
    assert.equal(
      c.environment.CAUSERIE_ADMIN_PASSWORD_FILE,
      "/run/secrets/causerie_admin_password",
    );
    assert.equal(c.environment.CAUSERIE_TRUSTED_PROXIES, "172.28.0.0/24");
    assert.equal(c.ports, undefined, "only the load balancer is published");
    assert.deepEqual(c.volumes, [`${name}-data:/data`], "an admin socket of its own");
    assert.deepEqual(c.ulimits.nofile, { soft: 65536, hard: 65536 });
    assert.equal(c.stop_grace_period, "30s");
    assert.equal(c.restart, "unless-stopped");
    assert.equal(c.command, undefined, "the image's CMD: deno task start");
  }
  assert.equal(cluster.networks.causerie.ipam.config[0].subnet, "172.28.0.0/24");
  // The load balancer: Caddy's official image, its config from deploy/, after both are healthy.
  assert.match(lb.image, /^caddy:\d+$/);
  assert.deepEqual(lb.ports, ["127.0.0.1:8080:8080"]);
  assert.deepEqual(lb.volumes, ["./deploy/Caddyfile:/etc/caddy/Caddyfile:ro"]);
  assert.deepEqual(lb.depends_on, {
    "causerie-1": { condition: "service_healthy" },
    "causerie-2": { condition: "service_healthy" },
  });
  const caddy = await read("deploy/Caddyfile");
  assert.match(caddy, /^:8080 \{$/m);
  assert.match(caddy, /reverse_proxy causerie-1:8080 causerie-2:8080 \{/);
  assert.match(caddy, /health_uri \/readyz/, "an instance counting down gets no new connections");
  assert.match(caddy, /lb_policy least_conn/);
  assert.deepEqual(Object.keys(cluster.volumes).sort(), [
    "causerie-1-data",
    "causerie-2-data",
    "mariadb-data",
  ]);
  assert.equal(cluster.secrets.causerie_admin_password.file, "./admin_password");
  // The variables it reads are those of .env.example, and the docs give its command.
  const used = new Set(
    [...(await read("compose.cluster.yaml")).matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]),
  );
  const defined = new Set(
    [...(await read(".env.example")).matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]),
  );
  for (const v of used) assert.ok(defined.has(v), `.env.example defines ${v}`);
  const ops = await read("docs/operations.md");
  assert.ok(ops.includes("docker compose -f compose.cluster.yaml up -d"));
  assert.ok(ops.includes("deploy/Caddyfile"));
});
