/**
 * Password hashing: argon2id (m=19 MiB, t=2, p=1) as a PHC string, computed
 * on libuv's thread pool by `@node-rs/argon2`, never on the event loop, through
 * one bounded queue where logins go first (auth/hash_queue.ts). A full queue
 * refuses with `internal` (503, "try again").
 *
 * @module
 */

import { type Algorithm, hash, verify } from "@node-rs/argon2";
import { HashQueue } from "./hash_queue.ts";

/** `Algorithm.Argon2id` (a const enum, which isolated modules cannot read). */
const ARGON2ID = 2 as Algorithm;

/** Parameters of every new hash (OWASP's first recommendation for argon2id). */
export const ARGON2_PARAMS = {
  algorithm: ARGON2ID,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * Hashes computed at once. argon2 runs on worker threads, but every thread
 * beyond the spare cores competes with the event loop for CPU: on 2 cores,
 * 40 concurrent hashes stall the loop for half a second. Keeping one core
 * for the loop keeps its lag at a few milliseconds; the rest wait in turn.
 */
export const HASH_CONCURRENCY = Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);

/** Pieces of hashing work allowed to wait by default; beyond, refused as busy. */
export const HASH_QUEUE_DEFAULT = 64;

/** The process's one hash queue (argon2 work shares the same cores whoever asks). */
export const hashQueue = new HashQueue({
  concurrency: HASH_CONCURRENCY,
  maxWaiting: HASH_QUEUE_DEFAULT,
});

/** Hashes a password into a PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$...`. */
export function hashPassword(password: string): Promise<string> {
  return hashQueue.run("other", () => hash(password, ARGON2_PARAMS));
}

/**
 * Whether `password` matches the PHC string `phc`. A malformed hash is a
 * mismatch, not an exception.
 */
export function verifyPassword(phc: string, password: string): Promise<boolean> {
  return hashQueue.run("login", async () => {
    try {
      return await verify(phc, password);
    } catch {
      return false;
    }
  });
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for logins naming an unknown
 * user, so that response times do not reveal which usernames exist.
 */
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hashPassword("causerie-timing-equalizer").catch((e) => {
    dummy = undefined;
    throw e;
  });
  await verifyPassword(await dummy, password);
  return false;
}
