/**
 * The import itself: the original database (legacy/source.ts) into a
 * Causerie store, table by table, one transaction per batch, each batch
 * recording how far it got (Store.importLegacy), so that a re-run imports
 * only what is new and an interrupted run resumes where it stopped.
 *
 * Order: salons (configured ones synced first, missing ones created with
 * `approval`), users (names by legacy/names.ts, passwords by
 * auth/legacy_password.ts), memberships, messages (by increasing original
 * id, so each salon's ids follow the original order, with the original
 * times; text by legacy/text.ts), then read markers: every imported member
 * of a salon has read the history imported into it.
 *
 * @module
 */

import { isLegacySha256, LOCKED_HASH, storedLegacyHash } from "../auth/legacy_password.ts";
import { SALON_NAME_MAX, type SalonConfig } from "../config/salons.ts";
import { isReserved, nameKey } from "../protocol/names.ts";
import type { LegacyBatch, SalonRecord, Store } from "../store/store.ts";
import {
  chooseDisplayName,
  chooseUsername,
  displayKey,
  type RenameReason,
  TakenNames,
  usernameKey,
} from "./names.ts";
import type { Source, SourceMessage } from "./source.ts";
import { cleanMessage, decodeName, decodeStored, type Decoding } from "./text.ts";

/** Progress of one table. */
export interface Progress {
  /** The original table. */
  table: "salons" | "clients" | "salons_adheres" | "messages";
  /** Rows handled so far in this run. */
  done: number;
  /** Rows to handle in this run. */
  total: number;
}

/** What the import needs besides the source and the store. */
export interface ImportOptions {
  /** The configured salons (`CAUSERIE_SALONS`). */
  salons: SalonConfig[];
  /** Longest message text (`CAUSERIE_MAX_TEXT`). */
  maxText: number;
  /** Rows per transaction (default 5000). */
  batchSize?: number;
  /** The clock, epoch ms. */
  now?: () => number;
  /** Told after every batch. */
  onProgress?: (p: Progress) => void;
}

/** Original ids, counted, the first {@link ListedIds.LIMIT} of them kept for the summary. */
export class ListedIds {
  /** How many ids are kept. */
  static readonly LIMIT = 20;
  /** How many were added. */
  count = 0;
  /** The first ones. */
  readonly ids: number[] = [];

  /** Counts `id`. */
  add(id: number): void {
    this.count++;
    if (this.ids.length < ListedIds.LIMIT) this.ids.push(id);
  }
}

/** A name the import changed. */
export interface Renamed {
  /** Original id. */
  legacyId: number;
  /** The original name (decoded). */
  original: string;
  /** The name stored. */
  name: string;
  /** Why. */
  reason: RenameReason;
}

/** What an import did, for the summary. */
export interface ImportReport {
  /** Users created in this run. */
  usersImported: number;
  /** Users imported by an earlier run. */
  usersKnown: number;
  /** Usernames changed (this run). */
  usernames: Renamed[];
  /** Aliases changed (this run). */
  aliases: Renamed[];
  /** Accounts that cannot log in until an admin sets a password (this run), by username. */
  locked: string[];
  /** Salons mapped in this run, and which of them were created. */
  salonsMapped: number;
  /** Salons created (with their policy). */
  salonsCreated: Array<{ name: string; policy: string }>;
  /** Salon names changed. */
  salonNames: Renamed[];
  /** Membership rows read, added, already there, and skipped by reason. */
  memberships: { read: number; added: number; already: number; skipped: Record<string, ListedIds> };
  /** Message rows read, messages stored, and rows skipped by reason. */
  messages: { read: number; stored: number; skipped: Record<string, ListedIds> };
  /** Messages whose text changed, by rule (ids of original messages). */
  textChanges: Record<Exclude<Decoding, "utf8"> | "controls" | "split" | "no_time", ListedIds>;
  /** How long the import took, ms. */
  elapsedMs: number;
}

function newReport(): ImportReport {
  return {
    usersImported: 0,
    usersKnown: 0,
    usernames: [],
    aliases: [],
    locked: [],
    salonsMapped: 0,
    salonsCreated: [],
    salonNames: [],
    memberships: { read: 0, added: 0, already: 0, skipped: {} },
    messages: { read: 0, stored: 0, skipped: {} },
    textChanges: {
      utf8_cut: new ListedIds(),
      latin1: new ListedIds(),
      replaced: new ListedIds(),
      controls: new ListedIds(),
      split: new ListedIds(),
      no_time: new ListedIds(),
    },
    elapsedMs: 0,
  };
}

function skip(table: Record<string, ListedIds>, reason: string, id: number): void {
  (table[reason] ??= new ListedIds()).add(id);
}

/** Imports everything new in `source` into `store`; returns what it did. */
export async function importLegacy(
  source: Source,
  store: Store,
  opts: ImportOptions,
): Promise<ImportReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const batchSize = opts.batchSize ?? 5000;
  const report = newReport();
  const progress = opts.onProgress ?? (() => {});
  const state = await store.legacyState();
  const charset = (column: string) => source.charsets[column] ?? "binary";
  const decode = (b: Uint8Array, column: string) => decodeName(b, charset(column)).text;

  // --- salons ---------------------------------------------------------------
  const originalSalons = await source.salons();
  let stored = await store.syncSalons(opts.salons, started);
  const claimed = new Set(state.salons.values());
  const byKey = new Map(stored.map((s) => [nameKey(s.name), s]));
  const salonNames = new TakenNames(
    usernameKey,
    stored.filter((s) => claimed.has(s.id)).map((s) => s.name),
  );
  const toCreate: Array<{ legacyId: number; name: string }> = [];
  const salonMap = new Map(state.salons);
  for (const s of originalSalons) {
    if (salonMap.has(s.id)) continue;
    const original = decode(s.name, "salons.nom_salon");
    const chosen = chooseDisplayName(original, salonNames, {
      fallback: `Salon ${s.id}`,
      max: SALON_NAME_MAX,
      field: "salon name",
    });
    if (chosen.reason) {
      report.salonNames.push({
        legacyId: s.id,
        original,
        name: chosen.name,
        reason: chosen.reason,
      });
    }
    const existing = byKey.get(nameKey(chosen.name));
    if (existing && !claimed.has(existing.id)) {
      claimed.add(existing.id);
      salonMap.set(s.id, existing.id);
    } else {
      toCreate.push({ legacyId: s.id, name: chosen.name });
    }
  }
  if (toCreate.length > 0) {
    stored = await store.syncSalons([
      ...opts.salons,
      ...toCreate.map((c) => ({ name: c.name, policy: "approval" as const })),
    ], started);
    const after = new Map(stored.map((s) => [nameKey(s.name), s]));
    for (const c of toCreate) {
      const salon = after.get(nameKey(c.name)) as SalonRecord;
      salonMap.set(c.legacyId, salon.id);
      report.salonsCreated.push({ name: salon.name, policy: salon.policy });
    }
  }
  const newSalons = [...salonMap].filter(([legacyId]) => !state.salons.has(legacyId));
  await store.importLegacy({
    salons: newSalons.map(([legacyId, salonId]) => ({ legacyId, salonId })),
  });
  report.salonsMapped = newSalons.length;
  progress({ table: "salons", done: originalSalons.length, total: originalSalons.length });

  // --- users ----------------------------------------------------------------
  const clients = await source.clients();
  const existingUsers = await store.listUsers();
  const usernames = new TakenNames(usernameKey, existingUsers.map((u) => u.username));
  const aliases = new TakenNames(displayKey, existingUsers.map((u) => u.alias));
  const userMap = new Map(state.clients);
  /** Original username (decoded) to the client ids carrying it, lowest first. */
  const byOriginalName = new Map<string, number[]>();
  const byOriginalKey = new Map<string, number[]>();
  let pending: NonNullable<LegacyBatch["users"]> = [];
  const flushUsers = async () => {
    if (pending.length === 0) return;
    const { userIds } = await store.importLegacy({ users: pending });
    pending.forEach((u, i) => userMap.set(u.legacyId, userIds[i]));
    pending = [];
  };
  let handled = 0;
  for (const c of clients) {
    handled++;
    const original = decode(c.username, "clients.username");
    byOriginalName.set(original, [...(byOriginalName.get(original) ?? []), c.id]);
    const key = nameKey(original);
    byOriginalKey.set(key, [...(byOriginalKey.get(key) ?? []), c.id]);
    if (userMap.has(c.id)) {
      report.usersKnown++;
      continue;
    }
    const username = chooseUsername(original, c.id, usernames);
    if (username.reason) {
      report.usernames.push({
        legacyId: c.id,
        original,
        name: username.name,
        reason: username.reason,
      });
    }
    const originalAlias = decode(c.alias, "clients.alias");
    const alias = chooseDisplayName(originalAlias, aliases, { fallback: username.name });
    if (alias.reason) {
      report.aliases.push({
        legacyId: c.id,
        original: originalAlias,
        name: alias.name,
        reason: alias.reason,
      });
    }
    const locked = isReserved(original) || !isLegacySha256(c.passwordHash);
    if (locked) report.locked.push(username.name);
    pending.push({
      legacyId: c.id,
      user: {
        username: username.name,
        alias: alias.name,
        passwordHash: locked ? LOCKED_HASH : storedLegacyHash(c.passwordHash),
        role: "member",
      },
      createdAt: started,
    });
    report.usersImported++;
    if (pending.length >= Math.min(batchSize, 500)) {
      await flushUsers();
      progress({ table: "clients", done: handled, total: clients.length });
    }
  }
  await flushUsers();
  progress({ table: "clients", done: clients.length, total: clients.length });

  /** The client a membership's username stands for: exact name first, then by our rule. */
  const clientOf = (username: string): number | undefined =>
    (byOriginalName.get(username) ?? byOriginalKey.get(nameKey(username)))?.[0];

  // --- memberships ------------------------------------------------------------
  const membershipTotal = await source.countAfter("salons_adheres", state.marks.membership);
  let after = state.marks.membership;
  for (;;) {
    const rows = await source.membershipsAfter(after, batchSize);
    if (rows.length === 0) break;
    const batch: NonNullable<LegacyBatch["memberships"]> = [];
    for (const r of rows) {
      report.memberships.read++;
      const clientId = clientOf(decode(r.username, "salons_adheres.username"));
      const userId = clientId === undefined ? undefined : userMap.get(clientId);
      const salonId = salonMap.get(r.salonId);
      if (userId === undefined) skip(report.memberships.skipped, "unknown username", r.id);
      else if (salonId === undefined) skip(report.memberships.skipped, "unknown salon", r.id);
      else batch.push({ salonId, userId, at: started });
    }
    after = rows[rows.length - 1].id;
    const { membershipsAdded } = await store.importLegacy({
      memberships: batch,
      marks: { membership: after },
    });
    report.memberships.added += membershipsAdded;
    report.memberships.already += batch.length - membershipsAdded;
    progress({
      table: "salons_adheres",
      done: report.memberships.read,
      total: membershipTotal,
    });
  }

  // --- messages ---------------------------------------------------------------
  const messageTotal = await source.countAfter("messages", state.marks.message);
  const newest = new Map<number, number>();
  let lastAt = started;
  after = state.marks.message;
  for (;;) {
    const rows = await source.messagesAfter(after, batchSize);
    if (rows.length === 0) break;
    const batch: NonNullable<LegacyBatch["messages"]> = [];
    for (const r of rows) {
      report.messages.read++;
      const message = toMessage(r, report, opts.maxText, lastAt, charset("messages.contenu"));
      if (!message) continue;
      lastAt = message.at;
      const userId = userMap.get(r.clientId);
      const salonId = salonMap.get(r.salonId);
      if (userId === undefined) skip(report.messages.skipped, "unknown client", r.id);
      else if (salonId === undefined) skip(report.messages.skipped, "unknown salon", r.id);
      else {
        for (const text of message.parts) batch.push({ salonId, userId, text, at: message.at });
      }
    }
    after = rows[rows.length - 1].id;
    const { messageIds } = await store.importLegacy({ messages: batch, marks: { message: after } });
    batch.forEach((m, i) =>
      newest.set(m.salonId, Math.max(newest.get(m.salonId) ?? 0, messageIds[i]))
    );
    report.messages.stored += batch.length;
    progress({ table: "messages", done: report.messages.read, total: messageTotal });
  }

  // --- read markers: imported history arrives read ----------------------------
  const imported = new Set(userMap.values());
  const read = (await store.listMemberships())
    .filter((m) => imported.has(m.user.id) && newest.has(m.salonId))
    .map((m) => ({ userId: m.user.id, salonId: m.salonId, lastRead: newest.get(m.salonId)! }));
  for (let i = 0; i < read.length; i += batchSize) {
    await store.importLegacy({ read: read.slice(i, i + batchSize) });
  }
  report.elapsedMs = now() - started;
  return report;
}

/** The text parts and time of one original message, or `undefined` (counted) when skipped. */
function toMessage(
  r: SourceMessage,
  report: ImportReport,
  maxText: number,
  lastAt: number,
  charset: string,
): { parts: string[]; at: number } | undefined {
  if (r.text === null) {
    skip(report.messages.skipped, "no text (NULL)", r.id);
    return undefined;
  }
  const decoded = decodeStored(r.text, charset);
  const cleaned = cleanMessage(decoded.text, maxText);
  if ("skip" in cleaned) {
    skip(report.messages.skipped, "empty or blank text", r.id);
    return undefined;
  }
  if (decoded.decoding !== "utf8") report.textChanges[decoded.decoding].add(r.id);
  if (cleaned.replaced > 0) report.textChanges.controls.add(r.id);
  if (cleaned.parts.length > 1) report.textChanges.split.add(r.id);
  if (r.at === null) report.textChanges.no_time.add(r.id);
  return { parts: cleaned.parts, at: r.at ?? lastAt };
}
