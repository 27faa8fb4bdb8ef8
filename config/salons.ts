/**
 * The salon list of `CAUSERIE_SALONS`: `Name:policy,Name:policy,...`.
 *
 * @module
 */

import { displayNameProblem, nameKey } from "../protocol/names.ts";

/** How a salon admits members. */
export type SalonPolicy = "auto" | "open" | "approval";

/** Every policy, in the order they are documented. */
export const SALON_POLICIES: readonly SalonPolicy[] = ["auto", "open", "approval"];

/** One configured salon. */
export interface SalonConfig {
  /** The name as shown. */
  name: string;
  /** How members get in. */
  policy: SalonPolicy;
}

/** The original server's five salons, and the default of `CAUSERIE_SALONS`. */
export const DEFAULT_SALONS =
  "Général:auto,Blabla:open,Comptabilité:approval,Informatique:approval,Marketing:approval";

/** Longest salon name, in Unicode characters. */
export const SALON_NAME_MAX = 64;

/**
 * Parses a salon list. Throws an `Error` whose message says what to fix:
 * exactly one `auto` salon, no duplicates (after NFC and lower-casing), every
 * policy one of `auto`, `open`, `approval`.
 */
export function parseSalons(text: string): SalonConfig[] {
  const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (entries.length === 0) {
    throw new Error(`expected at least one "Name:policy" entry, for example ${DEFAULT_SALONS}`);
  }
  const salons: SalonConfig[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const colon = entry.lastIndexOf(":");
    if (colon <= 0) {
      throw new Error(`"${entry}" must be written Name:policy with policy auto, open or approval`);
    }
    const name = entry.slice(0, colon).trim().normalize("NFC");
    const policy = entry.slice(colon + 1).trim();
    if (!SALON_POLICIES.includes(policy as SalonPolicy)) {
      throw new Error(`"${entry}" has policy "${policy}"; use auto, open or approval`);
    }
    if (name.includes(":")) throw new Error(`salon name "${name}" must not contain ':'`);
    const problem = displayNameProblem(name, `salon name "${name}"`, SALON_NAME_MAX);
    if (problem) throw new Error(problem);
    const key = nameKey(name);
    if (seen.has(key)) throw new Error(`salon "${name}" is listed twice`);
    seen.add(key);
    salons.push({ name, policy: policy as SalonPolicy });
  }
  const autos = salons.filter((s) => s.policy === "auto").length;
  if (autos !== 1) {
    throw new Error(
      `exactly one salon must have policy auto (the one every user belongs to); found ${autos}`,
    );
  }
  return salons;
}
