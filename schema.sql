-- Causerie schema, MySQL 8 / MariaDB 10.11 dialect (SQLite's is store/sqlite_schema.sql).
-- Times are BIGINT milliseconds since the Unix epoch, UTC.
-- *_key columns hold names after NFC and lower-casing, as VARBINARY so they are
-- compared byte for byte (no collation, no pad-space): the database must not decide
-- that "General" and "Général" are the same name.
-- Each "-- migration: N" block is applied once, in order, at start-up. MySQL commits
-- each DDL statement on its own: a migration that fails half-way is not rolled back.
-- Checked against MariaDB 10.11; needs MySQL 8.0.16+ for the CHECK constraints.

-- migration: 1
CREATE TABLE users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(32) NOT NULL,
  username_key VARBINARY(128) NOT NULL,
  alias VARCHAR(255) NOT NULL,
  alias_key VARBINARY(1024) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  role VARCHAR(16) NOT NULL CHECK (role IN ('member', 'moderator', 'admin')),
  created_at BIGINT NOT NULL,
  UNIQUE KEY users_username_key (username_key),
  UNIQUE KEY users_alias_key (alias_key),
  KEY users_role (role)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE salons (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  name_key VARBINARY(1024) NOT NULL,
  policy VARCHAR(16) NOT NULL CHECK (policy IN ('auto', 'open', 'approval')),
  last_message_id BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE KEY salons_name_key (name_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE memberships (
  salon_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (salon_id, user_id),
  KEY memberships_user (user_id),
  CONSTRAINT memberships_salon_fk FOREIGN KEY (salon_id) REFERENCES salons (id),
  CONSTRAINT memberships_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE join_requests (
  salon_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (salon_id, user_id),
  KEY join_requests_user (user_id),
  CONSTRAINT join_requests_salon_fk FOREIGN KEY (salon_id) REFERENCES salons (id),
  CONSTRAINT join_requests_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE messages (
  salon_id BIGINT NOT NULL,
  id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  text MEDIUMTEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (salon_id, id),
  KEY messages_user (user_id),
  CONSTRAINT messages_salon_fk FOREIGN KEY (salon_id) REFERENCES salons (id),
  CONSTRAINT messages_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE direct_messages (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  from_user_id BIGINT NOT NULL,
  to_user_id BIGINT NOT NULL,
  pair_low BIGINT NOT NULL,
  pair_high BIGINT NOT NULL,
  text MEDIUMTEXT NOT NULL,
  created_at BIGINT NOT NULL,
  KEY direct_messages_pair (pair_low, pair_high, id),
  KEY direct_messages_to (to_user_id),
  CONSTRAINT direct_messages_from_fk FOREIGN KEY (from_user_id) REFERENCES users (id),
  CONSTRAINT direct_messages_to_fk FOREIGN KEY (to_user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE sanctions (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  kind VARCHAR(8) NOT NULL CHECK (kind IN ('kick', 'ban')),
  until_at BIGINT NULL,
  reason MEDIUMTEXT NOT NULL,
  by_user_id BIGINT NULL,
  created_at BIGINT NOT NULL,
  lifted_at BIGINT NULL,
  KEY sanctions_user (user_id, lifted_at),
  CONSTRAINT sanctions_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT sanctions_by_fk FOREIGN KEY (by_user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE sessions (
  token_hash VARBINARY(255) NOT NULL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  KEY sessions_user (user_id, last_used_at),
  CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor VARCHAR(64) NOT NULL,
  action VARCHAR(32) NOT NULL,
  target VARCHAR(255) NOT NULL DEFAULT '',
  reason MEDIUMTEXT NOT NULL,
  via VARCHAR(16) NOT NULL,
  KEY audit_log_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- migration: 2
-- Tokens revoked by a ban are kept, marked, so that a hello with one is answered `banned`.
ALTER TABLE sessions ADD COLUMN revoked_by_ban TINYINT NOT NULL DEFAULT 0;

-- migration: 3
-- alias_key now holds the confusable skeleton of the NFKC case-folded alias (UTS #39,
-- protocol/names.ts aliasKey) instead of its NFC lower-case form. No SQL can compute it:
-- the adapter recomputes every user's key in JS when it applies this version (store/rows.ts
-- planAliasKeys); aliases that already look alike are kept, with a warning.

-- migration: 4
-- Read markers and conversations (PROTOCOL.md 5.2). A user's marker in a salon is one row of
-- read_markers, moved forward only; in a direct conversation it is the last_read column of
-- the user's row of conversations, which also keeps the newest message of the conversation
-- (both directions: one row per user, written with every direct) so that the most recent
-- conversations are an index range, not a scan of direct_messages. Existing conversations
-- are filled in from direct_messages with last_read 0 (everything unread, counted up to
-- 1000); read_markers starts empty (docs/protocol.md, "Catching up, read markers,
-- conversations").
CREATE TABLE read_markers (
  user_id BIGINT NOT NULL,
  salon_id BIGINT NOT NULL,
  last_read BIGINT NOT NULL,
  PRIMARY KEY (user_id, salon_id),
  KEY read_markers_salon (salon_id),
  CONSTRAINT read_markers_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT read_markers_salon_fk FOREIGN KEY (salon_id) REFERENCES salons (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE conversations (
  user_id BIGINT NOT NULL,
  other_id BIGINT NOT NULL,
  latest_id BIGINT NOT NULL,
  at BIGINT NOT NULL,
  last_read BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, other_id),
  KEY conversations_recent (user_id, at, other_id),
  KEY conversations_other (other_id),
  CONSTRAINT conversations_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT conversations_other_fk FOREIGN KEY (other_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO conversations (user_id, other_id, latest_id, at, last_read)
  SELECT p.pair_low, p.pair_high, p.latest, d.created_at, 0
  FROM (SELECT pair_low, pair_high, MAX(id) AS latest FROM direct_messages
        GROUP BY pair_low, pair_high) p
  JOIN direct_messages d ON d.id = p.latest;
INSERT INTO conversations (user_id, other_id, latest_id, at, last_read)
  SELECT p.pair_high, p.pair_low, p.latest, d.created_at, 0
  FROM (SELECT pair_low, pair_high, MAX(id) AS latest FROM direct_messages
        WHERE pair_low <> pair_high GROUP BY pair_low, pair_high) p
  JOIN direct_messages d ON d.id = p.latest;
-- migration: 5
-- Mentions (PROTOCOL.md 5.3), written with the message: `messages.mentions` holds the mentioned
-- usernames in order, separated by one space (usernames hold no space), NULL when none, so history
-- reads them as they are; `message_mentions` has one row per mentioned member, keyed for the
-- welcome's count "messages above X in salon S that mention U". Messages stored before this
-- version mention nobody. At most 20 names of at most 32 characters: 659 characters.
ALTER TABLE messages ADD COLUMN mentions VARCHAR(700) NULL;
CREATE TABLE message_mentions (
  user_id BIGINT NOT NULL,
  salon_id BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  PRIMARY KEY (user_id, salon_id, message_id),
  KEY message_mentions_message (salon_id, message_id),
  CONSTRAINT message_mentions_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT message_mentions_message_fk FOREIGN KEY (salon_id, message_id)
    REFERENCES messages (salon_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- migration: 6
-- Importing the original server's database (issue 13, legacy/): which original row became
-- which of ours (`client` -> users.id, `salon` -> salons.id), and how far the import read the
-- tables it reads by increasing id (`membership`: salons_adheres.id, `message`:
-- messages.message_id), each written in the transaction of the batch it describes, so that a
-- re-run imports only what is new. A legacy password hash lives in users.password_hash as
-- `$legacy-sha256$<hex>` until the first login replaces it (auth/legacy_password.ts).
CREATE TABLE legacy_ids (
  kind VARCHAR(16) NOT NULL CHECK (kind IN ('client', 'salon')),
  legacy_id BIGINT NOT NULL,
  our_id BIGINT NOT NULL,
  PRIMARY KEY (kind, legacy_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE legacy_marks (
  kind VARCHAR(16) NOT NULL PRIMARY KEY CHECK (kind IN ('membership', 'message')),
  last_id BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- migration: 7
-- Mute and slow mode (PROTOCOL.md 5.4). A salon's slow mode is stored with it (seconds between
-- two `say` of a member, 0 = off). A mute is in force from its creation until `until_at` unless
-- `lifted_at` is set (by an unmute, or by a newer mute of the same user and salon replacing it);
-- `salon_id` NULL is a mute everywhere (salons and direct messages). Like sanctions, the end is
-- absolute, so a restart neither forgets nor extends a mute.
ALTER TABLE salons ADD COLUMN slow_mode_seconds INT NOT NULL DEFAULT 0
  CHECK (slow_mode_seconds BETWEEN 0 AND 3600);
CREATE TABLE mutes (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  salon_id BIGINT NULL,
  until_at BIGINT NOT NULL,
  reason MEDIUMTEXT NOT NULL,
  by_user_id BIGINT NULL,
  created_at BIGINT NOT NULL,
  lifted_at BIGINT NULL,
  KEY mutes_user (user_id, lifted_at),
  KEY mutes_until (until_at),
  CONSTRAINT mutes_user_fk FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT mutes_salon_fk FOREIGN KEY (salon_id) REFERENCES salons (id),
  CONSTRAINT mutes_by_fk FOREIGN KEY (by_user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- migration: 8
-- Edit, delete and reports (PROTOCOL.md 5.4). An edit replaces `text` (and, for a salon message,
-- `mentions` and its `message_mentions` rows) and sets `edited_at`; a delete erases the text
-- (`text` becomes '', `mentions` NULL, the mention rows go) and sets `deleted`: the row stays, so
-- that its id is never reused and history shows a tombstone. `reports` holds one row per reporter
-- and message (UNIQUE), the message's author and time as they were reported (a purge may delete
-- the message row; the report keeps no copy of the text), and its resolution.
ALTER TABLE messages ADD COLUMN edited_at BIGINT NULL, ADD COLUMN deleted TINYINT NOT NULL DEFAULT 0;
ALTER TABLE direct_messages ADD COLUMN edited_at BIGINT NULL, ADD COLUMN deleted TINYINT NOT NULL DEFAULT 0;
CREATE TABLE reports (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  salon_id BIGINT NOT NULL,
  message_id BIGINT NOT NULL,
  author_id BIGINT NOT NULL,
  message_at BIGINT NOT NULL,
  reporter_id BIGINT NOT NULL,
  reason MEDIUMTEXT NOT NULL,
  created_at BIGINT NOT NULL,
  resolved_at BIGINT NULL,
  resolved_by BIGINT NULL,
  note MEDIUMTEXT NOT NULL,
  UNIQUE KEY reports_once (reporter_id, salon_id, message_id),
  KEY reports_open (resolved_at, id),
  CONSTRAINT reports_salon_fk FOREIGN KEY (salon_id) REFERENCES salons (id),
  CONSTRAINT reports_author_fk FOREIGN KEY (author_id) REFERENCES users (id),
  CONSTRAINT reports_reporter_fk FOREIGN KEY (reporter_id) REFERENCES users (id),
  CONSTRAINT reports_resolved_by_fk FOREIGN KEY (resolved_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- migration: 9
-- Several instances (issue 15, MySQL only: a bus needs CAUSERIE_DB=mysql://). Each running
-- instance is a row of `nodes` under a random id chosen at each start, beating on the database's
-- own clock (`beat_at`, epoch ms from UTC_TIMESTAMP(6)), so that instances never compare their
-- own clocks. `live_sessions` lists the WebSocket sessions each instance holds; when an instance
-- stops beating, another one deletes its node row and its sessions (reaping) and tells which
-- users have no session left anywhere. Unused without a bus.
CREATE TABLE nodes (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  started_at BIGINT NOT NULL,
  beat_at BIGINT NOT NULL,
  KEY nodes_beat (beat_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE live_sessions (
  node_id VARCHAR(64) NOT NULL,
  session_id VARCHAR(64) NOT NULL,
  user_id BIGINT NOT NULL,
  since BIGINT NOT NULL,
  PRIMARY KEY (node_id, session_id),
  KEY live_sessions_user (user_id),
  CONSTRAINT live_sessions_node_fk FOREIGN KEY (node_id) REFERENCES nodes (id) ON DELETE CASCADE,
  CONSTRAINT live_sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- migration: 10
-- The shutdown countdown across instances (issue 15): the admins' orders, one row each, named by
-- their deadline (epoch ms, the ordering instance's clock), the latest last (by id). A cancel
-- writes its row too, so that a cancel recorded before its order still wins. Every instance
-- reads the latest row once a second, so that one which missed the order on the bus still stops
-- (or cancels) with the others. Rows older than a day are removed by the next order. Unused
-- without a bus.
CREATE TABLE cluster_shutdowns (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  deadline BIGINT NOT NULL,
  cancelled TINYINT NOT NULL DEFAULT 0,
  UNIQUE KEY cluster_shutdowns_deadline (deadline)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
