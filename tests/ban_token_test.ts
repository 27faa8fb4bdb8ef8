/**
 * PROTOCOL.md 2.1: "A kicked or banned user gets `banned`, whether the hello
 * carries a token or a password" — even though a ban revokes every token.
 */

import assert from "node:assert/strict";
import { type Moderator, serverModerator } from "../runtime/moderation.ts";
import { assertErrorFrame, loginHttp, registerHttp, startTestServer } from "./ws_client.ts";

const PASSWORD = "ban-token-password";

Deno.test("a hello with a token revoked by a ban answers banned and closes 4403; after unban, bad_credentials", async () => {
  const srv = await startTestServer();
  try {
    await registerHttp(srv.url, "spammer", "Spammer", PASSWORD);
    const token = await loginHttp(srv.url, "spammer", PASSWORD);
    const socket: Moderator = serverModerator("socket");
    await srv.server.hub.moderation.ban(socket, "spammer", { reason: "spam" });

    const banned = await srv.connect("banned");
    banned.send({ type: "hello", token, ref: "h" });
    const refusal = await banned.next((f) => f.type === "error", 10_000, "banned");
    assertErrorFrame(refusal, "banned", "h");
    assert.equal((await banned.closed).code, 4403);

    // The token stays revoked after an unban: it is then simply unknown.
    await srv.server.hub.moderation.unban(socket, "spammer");
    const later = await srv.connect("later");
    later.send({ type: "hello", token, ref: "h2" });
    const unknown = await later.next((f) => f.type === "error", 10_000, "bad_credentials");
    assertErrorFrame(unknown, "bad_credentials", "h2");
    assert.equal((await later.closed).code, 4401);
  } finally {
    await srv.stop();
  }
});
