/**
 * The naming rule of the import: how the original server's usernames,
 * aliases and salon names become valid, unique Causerie names
 * (protocol/names.ts), deterministically, with every change reported.
 *
 * Rows are taken in the order of their original id; names already in the
 * Causerie database count as taken.
 *
 * - **Usernames** (3-32 of `[A-Za-z0-9_.-]`, unique after NFC and
 *   lower-casing): a valid one is kept. `admin` and `server` (and names that
 *   look like them) get `_legacy` (`admin_legacy`). Otherwise accents are
 *   removed (NFKD without marks), every run of other characters becomes one
 *   `_`, `_` is trimmed from both ends, the name is cut to 32; one shorter
 *   than 3 gets `_` and the original id (`user_<id>` when nothing is left).
 *   A name already taken (`alice` after `Alice`) gets the first free suffix
 *   `_2`, `_3`, ... (the name cut so that it still fits in 32).
 * - **Aliases** (1-64 visible characters, unique by look): a valid one is
 *   kept. Otherwise control, separator, bidirectional, invisible and
 *   formatting characters are removed, white space runs become one space,
 *   the ends are trimmed and the alias is cut to 64; nothing left: the
 *   username. One that looks like a reserved name gets ` (legacy)`. One that
 *   looks like a taken alias gets the first free suffix ` 2`, ` 3`, ...
 * - **Salon names** follow the alias rule with `SALON_NAME_MAX` characters,
 *   but the first original salon whose name is a Causerie salon's (after NFC
 *   and lower-casing) becomes that salon; a second one with the same name
 *   gets a suffix.
 *
 * @module
 */

import {
  ALIAS_MAX,
  aliasKey,
  displayNameProblem,
  isReserved,
  nameKey,
  usernameProblem,
} from "../protocol/names.ts";

/** Longest username. */
const USERNAME_MAX = 32;

/** Why a name changed. */
export type RenameReason = "reserved" | "invalid" | "taken";

/** A name as chosen, and why it differs from the original (absent: unchanged). */
export interface ChosenName {
  /** The name to store. */
  name: string;
  /** Why it is not the original; absent when it is. */
  reason?: RenameReason;
}

/** Names already used, by comparison key, and the rule that compares them. */
export class TakenNames {
  readonly #keys = new Set<string>();
  readonly #key: (name: string) => string;

  /** A set compared with `key` (nameKey for usernames and salons, aliasKey for aliases). */
  constructor(key: (name: string) => string, names: Iterable<string> = []) {
    this.#key = key;
    for (const n of names) this.#keys.add(key(n));
  }

  /** Whether a name with the same key is taken. */
  has(name: string): boolean {
    return this.#keys.has(this.#key(name));
  }

  /** Takes `name`. */
  add(name: string): void {
    this.#keys.add(this.#key(name));
  }
}

function cut(text: string, max: number): string {
  return [...text].slice(0, max).join("");
}

/** The first free `base<sep>n` (n = 2, 3, ...), `base` cut so that the whole fits in `max`. */
function suffixed(base: string, sep: string, max: number, taken: TakenNames): string {
  for (let n = 2;; n++) {
    const tail = `${sep}${n}`;
    const candidate = cut(base, max - [...tail].length).trimEnd() + tail;
    if (!taken.has(candidate)) return candidate;
  }
}

/** A valid username made from any text (see the module doc). */
function sanitizeUsername(original: string, legacyId: number): string {
  const ascii = original.normalize("NFKD").replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^_+|_+$/g, "");
  const name = cut(ascii, USERNAME_MAX);
  if (name === "") return `user_${legacyId}`;
  if (name.length < 3) return `${name}_${legacyId}`.slice(0, USERNAME_MAX);
  return name;
}

/** Chooses the username of original row `legacyId` and takes it. */
export function chooseUsername(original: string, legacyId: number, taken: TakenNames): ChosenName {
  let name = original;
  let reason: RenameReason | undefined;
  if (usernameProblem(name) !== undefined) {
    name = sanitizeUsername(original, legacyId);
    reason = "invalid";
  }
  if (isReserved(name)) {
    name = `${cut(name, USERNAME_MAX - 7)}_legacy`;
    reason = "reserved";
  }
  if (taken.has(name)) {
    name = suffixed(name, "_", USERNAME_MAX, taken);
    reason ??= "taken";
  }
  taken.add(name);
  return reason === undefined ? { name } : { name, reason };
}

/** Control, separator, bidirectional, unassigned, invisible and formatting characters. */
const NOT_IN_NAMES =
  /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\p{Cn}\p{Cf}\p{Default_Ignorable_Code_Point}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** A display name that follows the rule, made from any text; empty when nothing is left. */
function sanitizeDisplay(original: string, max: number): string {
  return cut(
    original.normalize("NFC").replace(NOT_IN_NAMES, "").replace(/\s+/gu, " ").trim(),
    max,
  ).trim();
}

/**
 * Chooses a display name (alias or salon name) and takes it: `fallback` when
 * nothing acceptable is left of the original.
 */
export function chooseDisplayName(
  original: string,
  taken: TakenNames,
  opts: { fallback: string; max?: number; field?: string },
): ChosenName {
  const max = opts.max ?? ALIAS_MAX;
  const field = opts.field ?? "alias";
  let name = original;
  let reason: RenameReason | undefined;
  if (displayNameProblem(name, field, max) !== undefined) {
    name = sanitizeDisplay(original, max);
    if (name === "" || displayNameProblem(name, field, max) !== undefined) name = opts.fallback;
    reason = "invalid";
  }
  if (isReserved(name)) {
    name = `${cut(name, max - 9)} (legacy)`;
    reason = "reserved";
  }
  if (taken.has(name)) {
    name = suffixed(name, " ", max, taken);
    reason ??= "taken";
  }
  taken.add(name);
  return reason === undefined ? { name } : { name, reason };
}

/** The comparison key of usernames and salon names. */
export const usernameKey: (name: string) => string = nameKey;
/** The comparison key of aliases (their look). */
export const displayKey: (name: string) => string = aliasKey;
