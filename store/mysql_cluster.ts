/**
 * The cluster tables on MySQL/MariaDB (migration 9, {@link ClusterStore}):
 * nodes beating on the database's clock, their live sessions, and the reaping
 * of dead nodes in one transaction.
 *
 * @module
 */

import type {
  ClusterStore,
  ConversationLatest,
  NodeRecord,
  OrderedAppend,
  Reaped,
} from "./cluster_store.ts";
import type { MysqlDb, Sql } from "./mysql_sql.ts";
import { placeholders } from "./adapter_common.ts";
import type { NewMessage } from "./store.ts";
import { appendOrdered, conversationBaseline, recentConversations } from "./mysql_direct_order.ts";

/**
 * The database's clock, epoch ms: UTC whatever the session's time zone, and
 * no daylight-saving fold (`UNIX_TIMESTAMP(NOW())` would read it through the
 * session's zone). A constant: no input goes into it.
 */
export const DB_NOW_MS =
  "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";

/** ER_NO_REFERENCED_ROW_2: the node of a new live session is gone. */
const ER_NO_REFERENCED_ROW_2 = 1452;

/** The {@link ClusterStore} of a MySQL adapter. */
export class MysqlClusterStore implements ClusterStore {
  readonly #db: MysqlDb;

  /** Works on the adapter's pool. */
  constructor(db: MysqlDb) {
    this.#db = db;
  }

  async clusterNow(): Promise<number> {
    return Number((await this.#db.sql.row(`SELECT ${DB_NOW_MS} AS now_ms`))?.now_ms);
  }

  async registerNode(nodeId: string): Promise<number> {
    return await this.#db.tx(async (sql) => {
      const now = Number((await sql.row(`SELECT ${DB_NOW_MS} AS now_ms`))?.now_ms);
      await sql.run("INSERT INTO nodes (id, started_at, beat_at) VALUES (?, ?, ?)", [
        nodeId,
        now,
        now,
      ]);
      return now;
    });
  }

  async beatNode(nodeId: string): Promise<boolean> {
    // A second beat within the same millisecond changes no value: GREATEST keeps the row
    // "matched" either way, and mysql2 reports matched rows (CLIENT_FOUND_ROWS).
    const r = await this.#db.sql.run(
      `UPDATE nodes SET beat_at = GREATEST(beat_at, ${DB_NOW_MS}) WHERE id = ?`,
      [nodeId],
    );
    return r.affectedRows === 1;
  }

  async liveNodes(withinMs: number): Promise<NodeRecord[]> {
    const rows = await this.#db.sql.rows(
      `SELECT id, started_at, beat_at FROM nodes WHERE beat_at >= ${DB_NOW_MS} - ? ` +
        "ORDER BY started_at, id",
      [withinMs],
    );
    return rows.map((r) => ({
      id: String(r.id),
      startedAt: Number(r.started_at),
      beatAt: Number(r.beat_at),
    }));
  }

  reapDeadNodes(deadMs: number): Promise<Reaped> {
    return this.#db.tx(async (sql) => {
      // Locks the dead rows: a second reaper waits, then finds them gone.
      const dead = await sql.rows(
        `SELECT id FROM nodes WHERE beat_at < ${DB_NOW_MS} - ? ORDER BY id FOR UPDATE`,
        [deadMs],
      );
      return await removeNodes(sql, dead.map((r) => String(r.id)));
    });
  }

  unregisterNode(nodeId: string): Promise<Reaped> {
    return this.#db.tx(async (sql) => {
      const found = await sql.rows("SELECT id FROM nodes WHERE id = ? FOR UPDATE", [nodeId]);
      return await removeNodes(sql, found.map((r) => String(r.id)));
    });
  }

  async addLiveSession(nodeId: string, sessionId: string, userId: number): Promise<boolean> {
    try {
      await this.#db.sql.run(
        `INSERT INTO live_sessions (node_id, session_id, user_id, since) VALUES (?, ?, ?, ${DB_NOW_MS})`,
        [nodeId, sessionId, userId],
      );
      return true;
    } catch (e) {
      if ((e as { errno?: number }).errno === ER_NO_REFERENCED_ROW_2) {
        // The node or the user is gone; tell which one matters: a reaped node.
        const node = await this.#db.sql.row("SELECT 1 AS one FROM nodes WHERE id = ?", [nodeId]);
        if (!node) return false;
      }
      throw e;
    }
  }

  async removeLiveSession(nodeId: string, sessionId: string): Promise<boolean> {
    const r = await this.#db.sql.run(
      "DELETE FROM live_sessions WHERE node_id = ? AND session_id = ?",
      [nodeId, sessionId],
    );
    return r.affectedRows > 0;
  }

  async countLiveSessions(userId: number, aliveWithinMs: number): Promise<number> {
    const row = await this.#db.sql.row(
      "SELECT COUNT(*) AS n FROM live_sessions s JOIN nodes n ON n.id = s.node_id " +
        `WHERE s.user_id = ? AND n.beat_at >= ${DB_NOW_MS} - ?`,
      [userId, aliveWithinMs],
    );
    return Number(row?.n ?? 0);
  }

  async salonLatestIds(): Promise<Map<number, number>> {
    const rows = await this.#db.sql.rows("SELECT id, last_message_id FROM salons");
    return new Map(rows.map((r) => [Number(r.id), Number(r.last_message_id)]));
  }

  // --- direct conversations in order (issue 15; mysql_direct_order.ts)

  async appendOrdered(batch: NewMessage[]): Promise<OrderedAppend> {
    if (batch.length === 0) return { ids: [], prev: [] };
    return await this.#db.tx((sql) => appendOrdered(sql, batch));
  }

  conversationBaseline(userId: number): Promise<number> {
    return conversationBaseline(this.#db.sql, userId);
  }

  recentConversations(userIds: readonly number[], since: number): Promise<ConversationLatest[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return recentConversations(this.#db.sql, userIds, since);
  }
}

/**
 * Deletes `nodeIds` (locked by the caller) and their live sessions; returns
 * the users who had a session there and have none left anywhere.
 */
async function removeNodes(sql: Sql, nodeIds: string[]): Promise<Reaped> {
  if (nodeIds.length === 0) return { nodes: [], offlineUserIds: [] };
  const marks = placeholders(nodeIds.length);
  const users = await sql.rows(
    `SELECT DISTINCT user_id FROM live_sessions WHERE node_id IN (${marks})`,
    nodeIds,
  );
  await sql.run(`DELETE FROM live_sessions WHERE node_id IN (${marks})`, nodeIds);
  await sql.run(`DELETE FROM nodes WHERE id IN (${marks})`, nodeIds);
  const ids = users.map((r) => Number(r.user_id));
  if (ids.length === 0) return { nodes: nodeIds, offlineUserIds: [] };
  const still = await sql.rows(
    `SELECT DISTINCT user_id FROM live_sessions WHERE user_id IN (${placeholders(ids.length)})`,
    ids,
  );
  const online = new Set(still.map((r) => Number(r.user_id)));
  return {
    nodes: nodeIds,
    offlineUserIds: ids.filter((id) => !online.has(id)).sort((a, b) => a - b),
  };
}
