/**
 * Hello and register frames: the credentials check of a new session, and
 * the revocations (password change, logout) that close live sessions and
 * refuse handshakes checked while they happened.
 *
 * @module
 */

import { revokes, type SessionRevocation } from "../actors/session.ts";
import type { CredentialsRevoked } from "../auth/accounts.ts";
import { tokenHash } from "../auth/tokens.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { WelcomeCatchup } from "../protocol/events.ts";
import type { HandshakeFrame } from "../protocol/frames.ts";
import type { UserRecord, UserSummary } from "../store/store.ts";
import { loadWelcomeCatchup } from "./catchup.ts";
import type { HubContext } from "./hub_context.ts";
import { summary } from "./user_directory.ts";

/** A checked handshake: the user and the token of the new session. */
export interface HandshakeResult {
  /** The user. */
  user: UserSummary;
  /** The session's token (issued by a register or login, or the one presented). */
  token: string;
  /** The token's hash (what revocations name). */
  tokenHash: string;
  /** What the welcome tells about catching up (PROTOCOL 5.2), read during the check. */
  catchup: WelcomeCatchup;
}

/** The handshake checks of the hub. */
export interface Handshakes {
  /**
   * Checks a hello or register frame from `address`; rejects with a
   * ProtocolError (anything else is logged before it is passed on).
   */
  authenticate(frame: HandshakeFrame, address: string): Promise<HandshakeResult>;
  /** Closes (4401) the live sessions whose credentials were revoked. */
  revokeSessions(revoked: CredentialsRevoked): void;
}

const REVOCATION_REASONS: Record<CredentialsRevoked["cause"], string> = {
  password_changed: "credentials changed",
  logout: "logged out",
  logout_all: "logged out everywhere",
};

/** The handshake checks, over the hub's accounts and server actor. */
export function createHandshakes(ctx: HubContext): Handshakes {
  const { accounts, log } = ctx;
  /**
   * Revocations made while handshakes were being checked: a handshake that
   * began before one of them and would open a session it revokes is refused,
   * since the revocation could not close a session that did not exist yet.
   * Emptied whenever no handshake is in flight.
   */
  const revokedDuringHandshakes: Array<{ seq: number; revocation: SessionRevocation }> = [];
  let revocationSeq = 0;
  let handshakesInFlight = 0;

  function revokeSessions(revoked: CredentialsRevoked): void {
    const revocation: SessionRevocation = {
      userId: revoked.userId,
      reason: REVOCATION_REASONS[revoked.cause],
      ...(revoked.only === undefined ? {} : { only: revoked.only }),
      ...(revoked.except === undefined ? {} : { except: revoked.except }),
    };
    revocationSeq++;
    if (handshakesInFlight > 0) {
      revokedDuringHandshakes.push({ seq: revocationSeq, revocation });
    }
    ctx.server().send({ type: "REVOKE_SESSIONS", revocation });
  }

  /**
   * Checks a hello or register frame: the user and the token of the new
   * session, refused when its credentials were revoked while it was checked.
   */
  async function handshake(frame: HandshakeFrame, address: string): Promise<HandshakeResult> {
    const since = revocationSeq;
    handshakesInFlight++;
    try {
      const { user, token } = await checkHandshake(frame, address);
      // Read before the revocation check, so that a revocation made meanwhile is seen.
      const catchup = await loadWelcomeCatchup(ctx, user.id);
      const hash = tokenHash(token);
      const revoked = revokedDuringHandshakes.some((r) =>
        r.seq > since && revokes(r.revocation, user.id, hash)
      );
      if (revoked) {
        throw new ProtocolError(
          "bad_credentials",
          401,
          "these credentials were revoked while the hello was checked; log in again",
        );
      }
      return { user, token, tokenHash: hash, catchup };
    } finally {
      if (--handshakesInFlight === 0) revokedDuringHandshakes.length = 0;
    }
  }

  /** Checks a hello or register frame: the user and the token of the new session. */
  async function checkHandshake(
    frame: HandshakeFrame,
    address: string,
  ): Promise<{ user: UserSummary; token: string }> {
    if (ctx.lifecycle() !== "running") {
      throw new ProtocolError(
        "shutting_down",
        503,
        "the server is shutting down; reconnect in a moment",
      );
    }
    let user: UserRecord;
    let token: string;
    if (frame.type === "register") {
      user = await accounts.register(frame, "member", { address });
      token = await accounts.issueToken(user);
    } else if ("token" in frame) {
      try {
        user = await accounts.authenticate(frame.token);
      } catch (e) {
        if (e instanceof ProtocolError && e.code === "unauthenticated") {
          // A token revoked by a ban still names its owner: answer `banned`.
          const owner = await accounts.bannedTokenOwner(frame.token);
          if (owner) await accounts.assertNotSanctioned(owner);
          throw new ProtocolError(
            "bad_credentials",
            401,
            "the token is unknown, revoked or expired; log in again with your password",
          );
        }
        throw e;
      }
      await accounts.assertNotSanctioned(user);
      token = frame.token;
    } else {
      ({ user, token } = await accounts.login(frame, address));
    }
    const s = summary(user);
    ctx.users.remember(s);
    return { user: s, token };
  }

  return {
    revokeSessions,
    async authenticate(frame, address) {
      try {
        return await handshake(frame, address);
      } catch (e) {
        // A refusal is the client's business; anything else is ours: log it.
        if (!(e instanceof ProtocolError)) {
          log.error(`a ${frame.type} could not be checked`, {
            event: "handshake_failed",
            address,
            error: e,
          });
        }
        throw e;
      }
    },
  };
}
