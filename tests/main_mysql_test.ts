/**
 * The whole server on MySQL/MariaDB (`CAUSERIE_TEST_MYSQL_URL`; skipped
 * without it): register, log in, chat, then stop and start again on the same
 * database; and a start-up on a server that refuses us fails with one line
 * that hides the password.
 *
 * @module
 */

import assert from "node:assert/strict";
import { freshDatabase, MYSQL_URL, mysqlTest } from "./mysql_fixture.ts";
import {
  type Frame,
  loginHttp,
  registerHttp,
  session,
  startTestServer,
  type TestServer,
} from "./ws_client.ts";

const PASSWORD = "alice's long password";

function states(welcome: Frame): Record<string, [boolean, boolean]> {
  return Object.fromEntries(
    (welcome.salons as Frame[]).map((s) => [s.name, [s.member, s.pending]]),
  );
}

mysqlTest(
  "server on mysql: register, login, say; after a restart the history and memberships remain",
  async () => {
    const db = await freshDatabase();
    const env = { CAUSERIE_DB: db.url };
    let srv: TestServer | undefined;
    try {
      srv = await startTestServer(env);
      assert.equal(srv.server.store.kind, "mysql");
      await registerHttp(srv.url, "alice", "Alice 😀", PASSWORD);
      await registerHttp(srv.url, "bob", "Bob", "bob's long password");
      const token = await loginHttp(srv.url, "alice", PASSWORD);

      const a = await session(srv, { token }, "alice");
      assert.equal((await a.client.request({ type: "join", salon: "Blabla" })).type, "joined");
      assert.equal(
        (await a.client.request({ type: "join", salon: "Comptabilité" })).type,
        "join_pending",
      );
      const ok = await a.client.request({
        type: "say",
        salon: "Général",
        text: "bonjour 'à' tous",
      });
      assert.equal(ok.type, "ok", JSON.stringify(ok));
      assert.equal(ok.id, 1);
      const okB = await a.client.request({ type: "say", salon: "Blabla", text: "b1" });
      assert.equal(okB.type, "ok", JSON.stringify(okB));
      const okD = await a.client.request({ type: "direct", to: "bob", text: "psst" });
      assert.equal(okD.type, "ok", JSON.stringify(okD));

      await srv.stop();
      srv = await startTestServer(env);

      // The token survives; so do memberships, the request and every message.
      const again = await session(srv, { token }, "alice");
      assert.deepEqual(states(again.welcome), {
        "Général": [true, false],
        "Blabla": [true, false],
        "Comptabilité": [false, true],
        "Informatique": [false, false],
        "Marketing": [false, false],
      });
      const h = await again.client.request({ type: "history", salon: "Général" });
      assert.deepEqual(
        h.messages.map((m: Frame) => [m.id, m.from.username, m.text]),
        [[1, "alice", "bonjour 'à' tous"]],
        JSON.stringify(h),
      );
      const hb = await again.client.request({ type: "history", salon: "Blabla" });
      assert.deepEqual(hb.messages.map((m: Frame) => m.text), ["b1"]);
      const hd = await again.client.request({ type: "history", with: "bob" });
      assert.deepEqual(hd.messages.map((m: Frame) => m.text), ["psst"]);
      const who = await again.client.request({ type: "who", salon: "Blabla" });
      assert.deepEqual(who.users, [{ username: "alice", alias: "Alice 😀", status: "online" }]);

      // Ids go on from where they were.
      const next = await again.client.request({ type: "say", salon: "Général", text: "encore" });
      assert.equal(next.type, "ok", JSON.stringify(next));
      assert.equal(next.id, 2);
      // And a password login still works.
      const bob = await session(srv, { username: "bob", password: "bob's long password" }, "bob");
      assert.equal(bob.welcome.type, "welcome");
    } finally {
      await srv?.stop();
      await db.drop();
    }
  },
);

mysqlTest(
  "server on mysql: a wrong password stops start-up with one line, password hidden",
  async () => {
    const url = new URL(MYSQL_URL!);
    url.password = "Not-The-Right-0ne";
    const error = await startTestServer({ CAUSERIE_DB: url.toString() }).then(
      (srv) => srv.stop().then(() => assert.fail("the server started")),
      (e: Error) => e,
    );
    assert.match(error.message, /^cannot open database mysql:\/\/[^:]+:\*\*\*@/);
    assert.match(error.message, /access denied/);
    assert.ok(!error.message.includes("Not-The-Right-0ne"), error.message);
    assert.ok(!error.message.includes("\n"), error.message);
  },
);
