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
import { addressKey } from "../lib/address.ts";
import { isReserved, nameKey } from "../protocol/names.ts";
import { ConflictError, type Role, type Store, type UserRecord } from "../store/store.ts";
import { isLegacyHash, isLockedHash, verifyLegacy } from "./legacy_password.ts";
import { hashPassword, verifyNothing, verifyPassword } from "./password.ts";
import { KeyedGate, Throttle, TokenBuckets } from "./throttle.ts";
import {
  CHECKS_PER_ADDRESS,
  FAILURES_PER_ADDRESS,
  FAILURES_PER_PAIR,
  LOGIN_WINDOW_MS,
  USERNAME_DELAY_AFTER,
  USERNAME_DELAY_BASE_MS,
  USERNAME_DELAY_MAX_MS,
} from "./login_limits.ts";
import {
  DEFAULT_REGISTRATION,
  registrationLimited,
  type RegistrationPolicy,
  taken,
} from "./registration_policy.ts";
export {
  CHECKS_PER_ADDRESS,
  FAILURES_PER_ADDRESS,
  FAILURES_PER_PAIR,
  LOGIN_WINDOW_MS,
  USERNAME_DELAY_AFTER,
  USERNAME_DELAY_BASE_MS,
  USERNAME_DELAY_MAX_MS,
} from "./login_limits.ts";
export { DEFAULT_REGISTRATION, type RegistrationPolicy } from "./registration_policy.ts";
import { newToken, TOKEN_MAX_IDLE_MS, tokenHash, TOKENS_PER_USER } from "./tokens.ts";

/** What {@link Accounts} needs from the rest of the server. */
export interface AccountsOptions {
  /** The database. */
  store: Store;
  /** The clock, epoch ms. */
  now?: () => number;
  /** Waits `ms` (the login delay of a much-guessed username); tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** Whether the server is counting down to a stop (logins are then refused). */
  isShuttingDown?: () => boolean;
  /** Connected users in a salon, by salon id. */
  onlineCount?: (salonId: number) => number;
  /** Where failed logins, lockouts and registrations are recorded (default: nowhere). */
  security?: SecurityLog;
  /** Self-service registration (default {@link DEFAULT_REGISTRATION}). */
  registration?: Partial<RegistrationPolicy>;
}

/** Where a self-service registration comes from (absent when an administrator creates the account). */
export interface RegistrationSource {
  /** The client's address. */
  address: string;
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
  /**
   * A salon's member count and presence mode, by salon id (set by the live
   * chat; without it, members are counted in the store and every salon is small).
   */
  salonSize: ((salonId: number) => { members: number; presence: "push" | "watch" }) | undefined;
  /** Told once tokens are revoked (the live chat closes the sessions opened with them). */
  onCredentialsRevoked: ((revoked: CredentialsRevoked) => void) | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #registration: RegistrationPolicy;
  readonly #registerByAddress: TokenBuckets;
  readonly #registerOverall: TokenBuckets;
  readonly #byPair = new Throttle({ limit: FAILURES_PER_PAIR, windowMs: LOGIN_WINDOW_MS });
  readonly #byAddress = new Throttle({ limit: FAILURES_PER_ADDRESS, windowMs: LOGIN_WINDOW_MS });
  readonly #byUsername = new Throttle({
    limit: USERNAME_DELAY_AFTER +
      Math.ceil(Math.log2(USERNAME_DELAY_MAX_MS / USERNAME_DELAY_BASE_MS)),
    windowMs: LOGIN_WINDOW_MS,
  });
  readonly #gate = new KeyedGate();

  /** Builds the service. */
  constructor(opts: AccountsOptions) {
    this.#store = opts.store;
    this.#now = opts.now ?? Date.now;
    this.#isShuttingDown = opts.isShuttingDown ?? (() => false);
    this.#security = opts.security ?? silentSecurityLog;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#registration = { ...DEFAULT_REGISTRATION, ...opts.registration };
    this.#registerByAddress = new TokenBuckets({
      capacity: this.#registration.perAddressPerHour,
      periodMs: 3_600_000,
    });
    this.#registerOverall = new TokenBuckets({
      capacity: this.#registration.perMinute,
      periodMs: 60_000,
    });
    this.onlineCount = opts.onlineCount ?? (() => 0);
    this.salonSize = undefined;
    this.onRegistered = undefined;
    this.onCredentialsRevoked = undefined;
  }

  /**
   * Creates an account, a member by default (already validated input).
   *
   * With `from`, a self-service registration (`POST /api/register`, the
   * `register` frame): refused with `403 forbidden` when registration is
   * closed, and `429 rate_limited` past the per-address or overall bucket.
   * Without it, an administrator creates the account: no limit, closed or not.
   * Then, for both, cheapest first and before any password hash: the reserved
   * names, a taken username, a taken alias (compared on their confusable
   * skeleton, protocol/names.ts). Every outcome goes to the security log.
   */
  async register(
    input: { username: string; alias: string; password: string },
    role: Role = "member",
    from?: RegistrationSource,
  ): Promise<UserRecord> {
    const record = (outcome: string, detail: string) =>
      this.#security.record({
        event: "register",
        username: input.username,
        address: from?.address,
        outcome,
        detail: `${from ? "self" : "admin"}: ${detail}`,
      });
    try {
      if (from) this.#admitRegistration(from.address);
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
          `the alias "${input.alias}" is reserved or looks like a reserved name; choose another`,
        );
      }
      if (await this.#store.userByName(input.username)) throw taken("username", input.username);
      if (await this.#store.aliasTaken(input.alias)) throw taken("alias", input.alias);
      if (from) this.#takeRegistration(from.address);
      const passwordHash = await hashPassword(input.password);
      let user: UserRecord;
      try {
        user = await this.#store.createUser(
          { username: input.username, alias: input.alias, passwordHash, role },
          this.#now(),
        );
      } catch (e) {
        if (e instanceof ConflictError) {
          throw taken(e.field, e.field === "username" ? input.username : input.alias);
        }
        throw e;
      }
      record("accepted", role);
      this.onRegistered?.(user);
      return user;
    } catch (e) {
      record("refused", e instanceof ProtocolError ? e.code : "internal");
      throw e;
    }
  }

  /** Throws `forbidden` when registration is closed, `rate_limited` when a bucket is empty. */
  #admitRegistration(address: string): void {
    if (this.#registration.mode === "closed") {
      throw new ProtocolError(
        "forbidden",
        403,
        "registration is closed; ask an administrator to create your account",
      );
    }
    const now = this.#now();
    const wait = Math.max(
      this.#registerByAddress.retryAfter(addressKey(address), now),
      this.#registerOverall.retryAfter("", now),
    );
    if (wait > 0) throw registrationLimited(wait);
  }

  /** Takes a token from both buckets just before the hash (checked free by {@link #admitRegistration}). */
  #takeRegistration(address: string): void {
    const now = this.#now();
    const key = addressKey(address);
    // Between the check and here other registrations may have emptied a bucket: check again.
    const wait = Math.max(
      this.#registerByAddress.retryAfter(key, now),
      this.#registerOverall.retryAfter("", now),
    );
    if (wait > 0) throw registrationLimited(wait);
    this.#registerByAddress.take(key, now);
    this.#registerOverall.take("", now);
  }

  /**
   * Checks credentials and issues a token. Refuses, in order: a server that
   * is shutting down (503), a (username, address) pair or an address past its
   * failures (429), wrong credentials (401), a kicked or banned user (403).
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
   * The user whose credentials these are, counting failures. Throws
   * `rate_limited` (429) or `bad_credentials` (401).
   *
   * Three counters, so that guessing is slow and nobody else is locked out:
   * the hard block is per (username, address) pair, {@link FAILURES_PER_PAIR}
   * failures; per address, all usernames together, a generous
   * {@link FAILURES_PER_ADDRESS} (password spraying); per username, from any
   * address, no refusal but a wait before the check once
   * {@link USERNAME_DELAY_AFTER} failures are in the window, doubling up to
   * {@link USERNAME_DELAY_MAX_MS}: the right password still gets in.
   */
  async verifyCredentials(
    input: { username: string; password: string },
    clientAddress: string,
  ): Promise<UserRecord> {
    const userKey = nameKey(input.username);
    const address = addressKey(clientAddress);
    const pairKey = `${userKey}\n${address}`;
    // Attempts wait their turn instead of being counted in advance: one at a
    // time per (username, address), and per address no more at once than
    // failures it may still make. Guesses sent in parallel therefore cannot
    // exceed the limits, while many users behind one address all get in.
    const releasePair = await this.#gate.acquire(`p:${pairKey}`, () => 1);
    try {
      this.#assertNotBlocked(input.username, clientAddress, pairKey, address);
      const delay = this.usernameDelayMs(input.username);
      if (delay > 0) await this.#sleep(delay);
      const releaseAddress = await this.#gate.acquire(
        `a:${address}`,
        () =>
          Math.max(
            1,
            Math.min(
              CHECKS_PER_ADDRESS,
              FAILURES_PER_ADDRESS - this.#byAddress.count(address, this.#now()),
            ),
          ),
      );
      try {
        this.#assertNotBlocked(input.username, clientAddress, pairKey, address);
        return await this.#checkCredentials(input, userKey, clientAddress, pairKey, address);
      } finally {
        releaseAddress();
      }
    } finally {
      releasePair();
    }
  }

  /**
   * How long the next attempt on `username` waits before it is checked, ms:
   * 0 below {@link USERNAME_DELAY_AFTER} failures in the window, then 1 s, 2 s,
   * 4 s ... up to {@link USERNAME_DELAY_MAX_MS}.
   */
  usernameDelayMs(username: string): number {
    const failures = this.#byUsername.count(nameKey(username), this.#now());
    if (failures < USERNAME_DELAY_AFTER) return 0;
    return Math.min(
      USERNAME_DELAY_MAX_MS,
      USERNAME_DELAY_BASE_MS * 2 ** (failures - USERNAME_DELAY_AFTER),
    );
  }

  #assertNotBlocked(username: string, clientAddress: string, pairKey: string, address: string) {
    const now = this.#now();
    const byPair = this.#byPair.retryAfter(pairKey, now);
    const byAddress = this.#byAddress.retryAfter(address, now);
    const wait = Math.max(byPair, byAddress);
    if (wait === 0) return;
    this.#security.record({
      event: "login_throttled",
      username,
      address: clientAddress,
      outcome: "refused",
      detail: byAddress > 0 ? "address" : "username_and_address",
    });
    throw new ProtocolError(
      "rate_limited",
      429,
      `too many failed logins; try again in ${wait} seconds`,
      { retryAfterSeconds: wait },
    );
  }

  async #checkCredentials(
    input: { username: string; password: string },
    userKey: string,
    clientAddress: string,
    pairKey: string,
    address: string,
  ): Promise<UserRecord> {
    const user = await this.#store.userByName(input.username);
    const ok = user
      ? await this.#verifyStored(user, input.password)
      : await verifyNothing(input.password);
    if (!user || !ok) {
      const now = this.#now();
      this.#byPair.fail(pairKey, now);
      this.#byAddress.fail(address, now);
      this.#byUsername.fail(userKey, now);
      const record = (event: string, outcome: string, detail: string) =>
        this.#security.record({
          event,
          username: input.username,
          address: clientAddress,
          outcome,
          detail,
        });
      record("login_failed", "refused", user ? "wrong_password" : "unknown_username");
      if (this.#byPair.count(pairKey, now) === FAILURES_PER_PAIR) {
        record("lockout", "started", "username_and_address");
      }
      if (this.#byAddress.count(address, now) === FAILURES_PER_ADDRESS) {
        record("lockout", "started", "address");
      }
      if (this.#byUsername.count(userKey, now) === USERNAME_DELAY_AFTER) {
        record("lockout", "started", "username_delay");
      }
      throw new ProtocolError(
        "bad_credentials",
        401,
        "unknown username or wrong password; check both and try again",
      );
    }
    this.#byPair.reset(pairKey);
    return user;
  }

  /**
   * Whether `password` is the user's. An imported account's legacy SHA-256
   * (auth/legacy_password.ts) is compared in constant time and, when it
   * matches, replaced by argon2id in this same login; a mismatch, or a locked
   * imported account, spends the time of an argon2 check so that response
   * times tell nothing.
   */
  async #verifyStored(user: UserRecord, password: string): Promise<boolean> {
    if (isLockedHash(user.passwordHash)) return await verifyNothing(password);
    if (!isLegacyHash(user.passwordHash)) return await verifyPassword(user.passwordHash, password);
    if (!verifyLegacy(user.passwordHash, password)) return await verifyNothing(password);
    const upgraded = await hashPassword(password);
    // A concurrent login may have upgraded it first: the password was right either way.
    await this.#store.upgradePassword(user.id, user.passwordHash, upgraded);
    user.passwordHash = upgraded;
    return true;
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
   * Sets a new password for `user` on an administrator's behalf (`by` says
   * who, for the security log): replaces the hash (an imported account's
   * legacy hash or lock included), revokes every token and closes every live
   * session of the user.
   */
  async setPasswordFor(user: UserRecord, password: string, by: string): Promise<void> {
    await this.#store.setPassword(user.id, await hashPassword(password));
    this.#security.record({
      event: "password_reset",
      username: user.username,
      outcome: "accepted",
      detail: by,
    });
    this.onCredentialsRevoked?.({ userId: user.id, cause: "password_changed" });
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

  /**
   * Member counts read from the store, for an account service without a live
   * chat (tests): every salon is then reported small.
   */
  async #storedSalonSizes(): Promise<
    (salonId: number) => { members: number; presence: "push" | "watch" }
  > {
    const counts = new Map<number, number>();
    for (const m of await this.#store.listMemberships()) {
      counts.set(m.salonId, (counts.get(m.salonId) ?? 0) + 1);
    }
    return (salonId) => ({ members: counts.get(salonId) ?? 0, presence: "push" });
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
    const size = this.salonSize ?? await this.#storedSalonSizes();
    return salons.map((s) => ({
      name: s.name,
      policy: s.policy,
      member: memberSet.has(s.id),
      pending: pendingSet.has(s.id),
      online: this.onlineCount(s.id),
      ...size(s.id),
      slowModeSeconds: s.slowModeSeconds,
    }));
  }
}
