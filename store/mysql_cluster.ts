/**
 * The cluster tables on MySQL/MariaDB (migration 9, {@link ClusterStore}):
 * nodes beating on the database's clock, their live sessions, and the reaping
 * of dead nodes in one transaction.
 *
 * @module
 */

import {
  type ClusterStore,
  type ConversationLatest,
  type LiveSessionRecord,
  type LiveUserRecord,
  type NodeRecord,
  type OrderedAppend,
  type Reaped,
  type ShutdownRecord,
  USER_STATES_CHUNK,
  type UserState,
} from "./cluster_store.ts";
import { toSanction } from "./rows.ts";
import type { MysqlDb, Sql } from "./mysql_sql.ts";
import { placeholders } from "./adapter_common.ts";
import type { NewMessage, Role, UserSummary } from "./store.ts";
import { appendOrdered, conversationBaseline, recentConversations } from "./mysql_direct_order.ts";

/**
 * The database's clock, epoch ms: UTC whatever the session's time zone, and
 * no daylight-saving fold (`UNIX_TIMESTAMP(NOW())` would read it through the
 * session's zone). A constant: no input goes into it.
 */
export const DB_NOW_MS =
  "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";

/** Shutdown orders older than this (before the latest one's deadline) are forgotten, ms. */
const SHUTDOWN_RECORD_KEPT_MS = 86_400_000;

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

  // -- moderation across instances (runtime/cluster_users.ts)
  async userStates(userIds: readonly number[], now: number): Promise<Map<number, UserState>> {
    const states = new Map<number, UserState>();
    const ids = [...new Set(userIds)];
    for (let i = 0; i < ids.length; i += USER_STATES_CHUNK) {
      const chunk = ids.slice(i, i + USER_STATES_CHUNK);
      const marks = placeholders(chunk.length);
      const users = await this.#db.sql.rows(
        `SELECT id, role FROM users WHERE id IN (${marks})`,
        chunk,
      );
      for (const u of users) states.set(Number(u.id), { role: u.role as Role, sanctions: [] });
      const sanctions = await this.#db.sql.rows(
        `SELECT id, user_id, kind, until_at, reason, created_at FROM sanctions
         WHERE user_id IN (${marks}) AND lifted_at IS NULL AND (until_at IS NULL OR until_at > ?)
         ORDER BY id`,
        [...chunk, now],
      );
      for (const r of sanctions) {
        const s = toSanction(r)!;
        states.get(s.userId)?.sanctions.push(s);
      }
    }
    return states;
  }

  // -- the shutdown countdown across instances (migration 10)

  async recordShutdown(deadline: number): Promise<void> {
    await this.#db.sql.run(
      "INSERT INTO cluster_shutdowns (deadline, cancelled) VALUES (?, 0) " +
        "ON DUPLICATE KEY UPDATE deadline = deadline",
      [deadline],
    );
    await this.#db.sql.run("DELETE FROM cluster_shutdowns WHERE deadline < ?", [
      deadline - SHUTDOWN_RECORD_KEPT_MS,
    ]);
  }

  async cancelShutdownRecord(deadline: number): Promise<void> {
    await this.#db.sql.run(
      "INSERT INTO cluster_shutdowns (deadline, cancelled) VALUES (?, 1) " +
        "ON DUPLICATE KEY UPDATE cancelled = 1",
      [deadline],
    );
  }

  async shutdownRecord(): Promise<ShutdownRecord | undefined> {
    const row = await this.#db.sql.row(
      "SELECT deadline, cancelled FROM cluster_shutdowns ORDER BY id DESC LIMIT 1",
    );
    return row
      ? { deadline: Number(row.deadline), cancelled: Number(row.cancelled) === 1 }
      : undefined;
  }

  // -- presence and sessions across instances (issue 15, items 2 and 4)
  async userLiveSessions(userId: number, aliveWithinMs: number): Promise<LiveSessionRecord[]> {
    const rows = await this.#db.sql.rows(
      "SELECT s.node_id, s.session_id, s.since FROM live_sessions s " +
        `JOIN nodes n ON n.id = s.node_id WHERE s.user_id = ? AND n.beat_at >= ${DB_NOW_MS} - ? ` +
        "ORDER BY s.since, s.node_id, s.session_id",
      [userId, aliveWithinMs],
    );
    return rows.map((r) => ({
      nodeId: String(r.node_id),
      sessionId: String(r.session_id),
      since: Number(r.since),
    }));
  }

  async usersOverSessionLimit(max: number, aliveWithinMs: number): Promise<number[]> {
    const rows = await this.#db.sql.rows(
      "SELECT s.user_id FROM live_sessions s JOIN nodes n ON n.id = s.node_id " +
        `WHERE n.beat_at >= ${DB_NOW_MS} - ? GROUP BY s.user_id HAVING COUNT(*) > ? ` +
        "ORDER BY s.user_id",
      [aliveWithinMs, max],
    );
    return rows.map((r) => Number(r.user_id));
  }

  async liveUsersByNode(aliveWithinMs: number): Promise<LiveUserRecord[]> {
    const rows = await this.#db.sql.rows(
      "SELECT DISTINCT s.node_id, s.user_id, u.username FROM live_sessions s " +
        "JOIN nodes n ON n.id = s.node_id JOIN users u ON u.id = s.user_id " +
        `WHERE n.beat_at >= ${DB_NOW_MS} - ? ORDER BY s.node_id, s.user_id`,
      [aliveWithinMs],
    );
    return rows.map((r) => ({
      nodeId: String(r.node_id),
      userId: Number(r.user_id),
      username: String(r.username),
    }));
  }

  // -- salon events across instances (issue 15: join requests, membership recovery)

  async closeJoinRequest(
    salonId: number,
    userId: number,
    accept: boolean,
    now: number,
  ): Promise<boolean> {
    return await this.#db.tx(async (sql) => {
      // The row's delete decides: a second decider (another instance) finds nothing to delete.
      const closed = await sql.run(
        "DELETE FROM join_requests WHERE salon_id = ? AND user_id = ?",
        [salonId, userId],
      );
      if (closed.affectedRows === 0) return false;
      if (accept) {
        await sql.run(
          `INSERT INTO memberships (salon_id, user_id, joined_at) VALUES (?, ?, ?)
           ON DUPLICATE KEY UPDATE joined_at = joined_at`,
          [salonId, userId, now],
        );
      }
      return true;
    });
  }

  async membershipDigests(): Promise<Map<number, string>> {
    const rows = await this.#db.sql.rows(
      `SELECT salon_id, COUNT(*) AS n, CAST(SUM(user_id) AS CHAR) AS s,
              CAST(SUM(CAST(user_id AS DECIMAL(65, 0)) * user_id) AS CHAR) AS q
       FROM memberships GROUP BY salon_id`,
    );
    return new Map(rows.map((r) => [Number(r.salon_id), `${Number(r.n)}:${r.s}:${r.q}`]));
  }

  async salonMembers(salonId: number): Promise<UserSummary[]> {
    const rows = await this.#db.sql.rows(
      `SELECT u.id, u.username, u.alias, u.role FROM memberships m
       JOIN users u ON u.id = m.user_id WHERE m.salon_id = ? ORDER BY u.id`,
      [salonId],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      username: String(r.username),
      alias: String(r.alias),
      role: r.role as Role,
    }));
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
