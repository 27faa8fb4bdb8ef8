/**
 * The delivery order of one user's direct conversation on one instance
 * (issue 15, several instances): messages committed by any instance reach
 * this instance's sessions of the user strictly in increasing id order, with
 * no gap and no duplicate, whatever the bus loses.
 *
 * Direct ids are not consecutive within a conversation (they come from one
 * table for every conversation), but the writers of one conversation commit
 * one after the other (store/mysql_direct_order.ts), so that each message
 * is published with `prev`, the id of the one before it in its conversation.
 * Hence, with `last` the id delivered last (or the user's baseline):
 *
 * - an offered message with an id at or below `last` is a duplicate and
 *   dropped; one whose `prev` is at or below `last` is delivered, and so is
 *   every buffered one that follows it; one whose `prev` is above `last`
 *   follows a message not seen yet: it is buffered and a wait of `waitMs`
 *   starts.
 * - When the wait ends with a message still buffered, the conversation is
 *   read from the store after `last` (the truth: within a conversation the
 *   store holds every committed id below the ones it returns) and delivered.
 * - {@link DirectOrder.latest} (the periodic check of the conversation's
 *   newest id) starts the same wait when the store is ahead: it catches the
 *   last message of an instance that died between its commit and its publish.
 * - {@link DirectOrder.catchUp} reads at once (after the bus was lost).
 *
 * The order itself is runtime/chain_order.ts (shared with salons); this
 * module names a direct's previous id.
 *
 * @module
 */

import { type ChainedMessage as Chained, ChainOrder, type ChainOrderPorts } from "./chain_order.ts";

/** A committed direct message as the order sees it. */
export interface ChainedMessage extends Chained {
  /** The id before it in its conversation (0: none); absent when read from the store. */
  prev?: number;
}

/** What a conversation's order needs. */
export type DirectOrderPorts<M extends ChainedMessage> = Omit<ChainOrderPorts<M>, "prevOf">;

/** One conversation's ordered delivery to one user on this instance (see the module). */
export class DirectOrder<M extends ChainedMessage> extends ChainOrder<M> {
  /** Delivers what follows `last` (the user's baseline when the order starts). */
  constructor(last: number, ports: DirectOrderPorts<M>) {
    super(last, { ...ports, prevOf: (m) => m.prev });
  }
}
