/**
 * Messages between the store and its writer thread (`sqlite_writer_worker.ts`).
 *
 * @module
 */

import type { NewMessage, ReadMark, ReadOutcome } from "./store.ts";
import type { MembershipChange } from "./sqlite_append.ts";

/** From the store to the writer thread. */
export type ToWriter =
  | { kind: "open"; path: string }
  | { kind: "append"; seq: number; batch: NewMessage[] }
  | { kind: "membership"; seq: number; change: MembershipChange }
  | { kind: "mark"; seq: number; mark: ReadMark }
  | { kind: "close" };

/** From the writer thread to the store. */
export type FromWriter =
  | { kind: "ready" }
  | { kind: "refused"; message: string }
  | { kind: "done"; seq: number; ids: number[] }
  | { kind: "applied"; seq: number; changed: boolean }
  | { kind: "marked"; seq: number; outcome: ReadOutcome }
  | { kind: "failed"; seq: number; message: string }
  | { kind: "closed" };
