/**
 * Accounts: registration, login, password change, logout and token checks.
 * Shared by the HTTP API and the WebSocket handshake; every refusal is a
 * {@link ProtocolError} with the code and status PROTOCOL.md gives.
 *
 * @module
 */

import { type SecurityLog, silentSecurityLog } from "../lib/security_log.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { PublicUser, SalonView } from "../protocol/http.ts";
import { isReserved, nameKey } from "../protocol/names.ts";
import { ConflictError, type Role, type Store, type UserRecord } from "../store/store.ts";
import { hashPassword, verifyNothing, verifyPassword } from "./password.ts";
import { KeyedGate, Throttle } from "./throttle.ts";
import { newToken, TOKEN_MAX_IDLE_MS, tokenHash, TOKENS_PER_USER } from "./tokens.ts";

/** Failed logins allowed per username per minute. */
export const FAILURES_PER_USERNAME = 5;
/** Failed logins allowed per client address per minute. */
export const FAILURES_PER_ADDRESS = 20;

/** What {@link Accounts} needs from the rest of the server. */
export interface AccountsOptions {
  /** The database. */
  store: Store;
  /** The clock, epoch ms. */
  now?: () => number;
  /** Whether the server is counting down to a stop (logins are then refused). */
  isShuttingDown?: () => boolean;
  /** Connected users in a salon, by salon id. */
  onlineCount?: (salonId: number) => number;
  /** Where failed logins, lockouts and registrations are recorded (default: nowhere). */
  security?: SecurityLog;
}

/**
 * Credentials revoked by the account API, for the live chat to close the
 * sessions opened with them: a logout (the sessions of that token), a logout
 * everywhere (every session) or a password change (every session but those
 * of the token that made the change).
 */
export interface CredentialsRevoked {
  /** The user. */
  userId: number;
  /** What revoked them. */
  cause: "logout" | "logout_all" | "password_changed";
  /** `logout`: the hash of the revoked token. */
  only?: string;
  /** `password_changed`: the hash of the token that made the change (its sessions stay). */
  except?: string;
}

/** The client's view of a user. */
export function publicUser(user: Pick<UserRecord, "username" | "alias" | "role">): PublicUser {
  return { username: user.username, alias: user.alias, role: user.role };
}

/** Account operations over a {@link Store}. */
export class Accounts {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #isShuttingDown: () => boolean;
  readonly #security: SecurityLog;
  /** Told of every new account (the live chat adds it to the `auto` salon). */
  onRegistered: ((user: UserRecord) => void) | undefined;
  /** Connected users in a salon, by salon id (set by the live chat). */
  onlineCount: (salonId: number) => number;
  /** Told once tokens are revoked (the live chat closes the sessions opened with them). */
  onCredentialsRevoked: ((revoked: CredentialsRevoked) => void) | undefined;
  readonly #byUsername = new Throttle({ limit: FAILURES_PER_USERNAME, windowMs: 60_000 });
  readonly #byAddress = new Throttle({ limit: FAILURES_PER_ADDRESS, windowMs: 60_000 });
  readonly #gate = new KeyedGate();

  /** Builds the service. */
  constructor(opts: AccountsOptions) {
    this.#store = opts.store;
    this.#now = opts.now ?? Date.now;
    this.#isShuttingDown = opts.isShuttingDown ?? (() => false);
    this.#security = opts.security ?? silentSecurityLog;
    this.onlineCount = opts.onlineCount ?? (() => 0);
    this.onRegistered = undefined;
    this.onCredentialsRevoked = undefined;
  }

  /**
   * Creates an account, a member by default (already validated input). Refuses the reserved
   * names and names taken after NFC and lower-casing.
   */
  async register(
    input: { username: string; alias: string; password: string },
    role: Role = "member",
  ): Promise<UserRecord> {
    if (isReserved(input.username)) {
      throw new ProtocolError(
        "username_taken",
        409,
        `the username "${input.username}" is reserved; choose another`,
      );
    }
    if (isReserved(input.alias)) {
      throw new ProtocolError(
        "alias_taken",
        409,
        `the alias "${input.alias}" is reserved; choose another`,
      );
    }
    if (await this.#store.userByName(input.username)) throw taken("username", input.username);
    const passwordHash = await hashPassword(input.password);
    try {
      const user = await this.#store.createUser(
        { username: input.username, alias: input.alias, passwordHash, role },
        this.#now(),
      );
      this.onRegistered?.(user);
      return user;
    } catch (e) {
      if (e instanceof ConflictError) {
        throw taken(e.field, e.field === "username" ? input.username : input.alias);
      }
      throw e;
    }
  }

  /**
   * Checks credentials and issues a token. Refuses, in order: a server that
   * is shutting down (503), a throttled username or address (429), wrong
   * credentials (401), a kicked or banned user (403).
   */
  async login(
    input: { username: string; password: string },
    clientAddress: string,
  ): Promise<{ token: string; user: UserRecord }> {
    if (this.#isShuttingDown()) {
      throw new ProtocolError("shutting_down", 503, "the server is shutting down; try again later");
    }
    const user = await this.verifyCredentials(input, clientAddress);
    await this.assertNotSanctioned(user);
    const token = await this.issueToken(user);
    return { token, user };
  }

  /**
   * The user whose credentials these are, counting failures for throttling.
   * Throws `rate_limited` (429) or `bad_credentials` (401).
   */
  async verifyCredentials(
    input: { username: string; password: string },
    clientAddress: string,
  ): Promise<UserRecord> {
    const userKey = nameKey(input.username);
    // Attempts wait their turn instead of being counted in advance: one at a
    // time per username, and per address no more at once than failures it may
    // still make. Guesses sent in parallel therefore cannot exceed the limits,
    // while many users behind one address (a NAT, a proxy) all get in.
    const releaseUser = await this.#gate.acquire(`u:${userKey}`, () => 1);
    try {
      const releaseAddress = await this.#gate.acquire(
        `a:${clientAddress}`,
        () => Math.max(1, FAILURES_PER_ADDRESS - this.#byAddress.count(clientAddress, this.#now())),
      );
      try {
        return await this.#checkCredentials(input, userKey, clientAddress);
      } finally {
        releaseAddress();
      }
    } finally {
      releaseUser();
    }
  }

  async #checkCredentials(
    input: { username: string; password: string },
    userKey: string,
    clientAddress: string,
  ): Promise<UserRecord> {
    const now = this.#now();
    const wait = Math.max(
      this.#byUsername.retryAfter(userKey, now),
      this.#byAddress.retryAfter(clientAddress, now),
    );
    if (wait > 0) {
      throw new ProtocolError(
        "rate_limited",
        429,
        `too many failed logins; try again in ${wait} seconds`,
        { retryAfterSeconds: wait },
      );
    }
    const user = await this.#store.userByName(input.username);
    const ok = user
      ? await verifyPassword(user.passwordHash, input.password)
      : await verifyNothing(input.password);
    if (!user || !ok) {
      this.#byUsername.fail(userKey, this.#now());
      this.#byAddress.fail(clientAddress, this.#now());
      throw new ProtocolError(
        "bad_credentials",
        401,
        "unknown username or wrong password; check both and try again",
      );
    }
    this.#byUsername.reset(userKey);
    return user;
  }

  /** Throws `banned` (403, with `until` for a kick) when a sanction is in force. */
  async assertNotSanctioned(user: UserRecord): Promise<void> {
    const sanction = await this.#store.activeSanction(user.id, this.#now());
    if (!sanction) return;
    if (sanction.kind === "kick" && sanction.until !== null) {
      const until = new Date(sanction.until).toISOString();
      throw new ProtocolError(
        "banned",
        403,
        `you were kicked${
          sanction.reason ? ` (${sanction.reason})` : ""
        }; you may come back at ${until}`,
        { until },
      );
    }
    throw new ProtocolError(
      "banned",
      403,
      `this account is banned${
        sanction.reason ? ` (${sanction.reason})` : ""
      }; ask an administrator`,
    );
  }

  /** Issues and stores a new token for `user`; returns the token itself. */
  async issueToken(user: UserRecord): Promise<string> {
    const token = newToken();
    await this.#store.createSession(user.id, tokenHash(token), {
      now: this.#now(),
      maxIdleMs: TOKEN_MAX_IDLE_MS,
      maxPerUser: TOKENS_PER_USER,
    });
    return token;
  }

  /** The user owning `token`; throws `unauthenticated` (401) otherwise. */
  async authenticate(token: string | undefined): Promise<UserRecord> {
    const user = token === undefined ? undefined : await this.#store.sessionUser(tokenHash(token), {
      now: this.#now(),
      maxIdleMs: TOKEN_MAX_IDLE_MS,
    });
    if (!user) {
      throw new ProtocolError(
        "unauthenticated",
        401,
        "missing, unknown or expired token; log in again with POST /api/login",
      );
    }
    return user;
  }

  /** The owner of a token that a ban revoked, if `token` is one. */
  bannedTokenOwner(token: string): Promise<UserRecord | undefined> {
    return this.#store.bannedTokenOwner(tokenHash(token));
  }

  /**
   * Changes the password of `user` after checking the current one, and revokes
   * every token of the user; the live sessions opened with any token other
   * than `token` (the one making the request) are then closed.
   */
  async changePassword(
    user: UserRecord,
    input: { current: string; next: string },
    clientAddress: string,
    token?: string,
  ): Promise<void> {
    await this.verifyCredentials(
      { username: user.username, password: input.current },
      clientAddress,
    );
    await this.#store.setPassword(user.id, await hashPassword(input.next));
    this.#security.record({
      event: "password_changed",
      username: user.username,
      address: clientAddress,
      outcome: "accepted",
    });
    this.onCredentialsRevoked?.({
      userId: user.id,
      cause: "password_changed",
      ...(token === undefined ? {} : { except: tokenHash(token) }),
    });
  }

  /**
   * Revokes `token` and closes the live sessions opened with it; throws
   * `unauthenticated` (401) when it is not a live token.
   */
  async logout(token: string | undefined, clientAddress?: string): Promise<void> {
    const user = await this.authenticate(token);
    const hash = tokenHash(token!);
    await this.#store.deleteSession(hash);
    this.#security.record({
      event: "logout",
      username: user.username,
      ...(clientAddress === undefined ? {} : { address: clientAddress }),
      outcome: "accepted",
    });
    this.onCredentialsRevoked?.({ userId: user.id, cause: "logout", only: hash });
  }

  /**
   * Revokes every token of the owner of `token` and closes every live session
   * of theirs; throws `unauthenticated` (401) when `token` is not a live token.
   */
  async logoutAll(token: string | undefined, clientAddress?: string): Promise<void> {
    const user = await this.authenticate(token);
    const revoked = await this.#store.deleteUserSessions(user.id);
    this.#security.record({
      event: "logout_all",
      username: user.username,
      ...(clientAddress === undefined ? {} : { address: clientAddress }),
      outcome: "accepted",
      detail: `${revoked} tokens revoked`,
    });
    this.onCredentialsRevoked?.({ userId: user.id, cause: "logout_all" });
  }

  /** Every salon as `user` sees it. */
  async salonsOf(user: UserRecord): Promise<SalonView[]> {
    const [salons, member, pending] = await Promise.all([
      this.#store.listSalons(),
      this.#store.memberSalonIds(user.id),
      this.#store.pendingSalonIds(user.id),
    ]);
    const memberSet = new Set(member);
    const pendingSet = new Set(pending);
    return salons.map((s) => ({
      name: s.name,
      policy: s.policy,
      member: memberSet.has(s.id),
      pending: pendingSet.has(s.id),
      online: this.onlineCount(s.id),
    }));
  }
}

function taken(field: "username" | "alias", value: string): ProtocolError {
  return new ProtocolError(
    field === "username" ? "username_taken" : "alias_taken",
    409,
    `the ${field} "${value}" is already taken; choose another`,
  );
}
