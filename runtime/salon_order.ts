/**
 * The delivery order of one salon on one instance (issue 15, several
 * instances): messages committed by any instance reach this instance's
 * members strictly in increasing id order, with no gap and no duplicate,
 * whatever the bus loses.
 *
 * Salon ids are a prefix in MySQL: each commit takes the next id from the
 * salon's counter row inside its transaction, so an id is visible only once
 * every smaller one is (deleted messages keep their row). Hence:
 *
 * - `next` is the id this instance delivers next. An offered message with a
 *   smaller id is a duplicate and dropped; the one equal to `next` is
 *   delivered with every buffered one that follows it; a larger one is
 *   buffered and a wait of `waitMs` starts.
 * - When the wait ends with a gap still open, the messages after `next - 1`
 *   are read from the store (the truth) and delivered; the page ends the gap
 *   because the store holds every committed id below the ones it returns.
 * - {@link SalonOrder.latest} (the periodic check of the salon's last id)
 *   starts the same wait when the store is ahead: it catches the last message
 *   of an instance that died between its commit and its publish.
 * - {@link SalonOrder.catchUp} reads at once (after the bus was lost).
 *
 * The order itself is runtime/chain_order.ts (shared with direct
 * conversations): a salon message's previous id is its id minus one.
 *
 * @module
 */

import { ChainOrder, type ChainOrderPorts } from "./chain_order.ts";

export type { OrderClock } from "./chain_order.ts";

/** A committed salon message, as delivered (the `message` frame's fields). */
export interface OrderedMessage {
  /** Its id in the salon. */
  id: number;
  /** Commit time, epoch ms. */
  at: number;
  /** The author. */
  from: { username: string; alias: string };
  /** The text. */
  text: string;
  /** Usernames it mentions; absent when none. */
  mentions?: string[];
  /** Deleted since (read from the store): skipped, never delivered. */
  deleted?: true;
}

/** What a salon's order needs. */
export type SalonOrderPorts = Omit<ChainOrderPorts<OrderedMessage>, "prevOf">;

/** One salon's ordered delivery on this instance (see the module). */
export class SalonOrder extends ChainOrder<OrderedMessage> {
  /** Delivers from `next` on (the salon's last committed id + 1 when this instance starts). */
  constructor(next: number, ports: SalonOrderPorts) {
    super(next - 1, { ...ports, prevOf: (m) => m.id - 1 });
  }

  /** The id delivered next. */
  get next(): number {
    return this.last + 1;
  }
}
