/**
 * The writer thread of a SQLite file store: its own connection to the same
 * database (WAL lets it write while the main thread reads), on which every
 * batch of chat messages, every membership change (join, leave, request) and
 * every read marker is committed, so that the commit's disk sync (`synchronous=FULL`) does not
 * stop the event loop that serves the sockets.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";
import { SqliteAppender } from "./sqlite_append.ts";
import type { FromWriter, ToWriter } from "./sqlite_writer_protocol.ts";

let db: DatabaseSync | undefined;
let appender: SqliteAppender | undefined;

function reply(message: FromWriter): void {
  self.postMessage(message);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

self.onmessage = (event: MessageEvent<ToWriter>) => {
  const message = event.data;
  if (message.kind === "open") {
    try {
      db = new DatabaseSync(message.path);
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
      appender = new SqliteAppender(db);
      reply({ kind: "ready" });
    } catch (e) {
      reply({ kind: "refused", message: messageOf(e) });
    }
    return;
  }
  if (message.kind === "close") {
    // Closed here, not left to the thread's end: another connection opening the
    // file right after must not find this one half-closed (SQLITE_BUSY).
    appender = undefined;
    db?.close();
    db = undefined;
    reply({ kind: "closed" });
    return;
  }
  if (!appender) {
    reply({ kind: "failed", seq: message.seq, message: "the writer thread has no database open" });
    return;
  }
  try {
    if (message.kind === "membership") {
      reply({
        kind: "applied",
        seq: message.seq,
        changed: appender.applyMembership(message.change),
      });
    } else if (message.kind === "mark") {
      reply({ kind: "marked", seq: message.seq, outcome: appender.markRead(message.mark) });
    } else reply({ kind: "done", seq: message.seq, ids: appender.append(message.batch) });
  } catch (e) {
    reply({ kind: "failed", seq: message.seq, message: messageOf(e) });
  }
};
