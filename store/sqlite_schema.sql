-- Causerie schema, SQLite dialect (the MySQL/MariaDB one is ../schema.sql).
-- Times are INTEGER milliseconds since the Unix epoch, UTC.
-- *_key columns hold names after NFC and lower-casing: the uniqueness rule (alias_key:
-- the confusable skeleton since migration 3).

-- migration: 1
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL UNIQUE,
  alias TEXT NOT NULL,
  alias_key TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'admin')),
  created_at INTEGER NOT NULL
);
CREATE INDEX users_role ON users (role);
CREATE TABLE salons (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  policy TEXT NOT NULL CHECK (policy IN ('auto', 'open', 'approval')),
  last_message_id INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE memberships (
  salon_id INTEGER NOT NULL REFERENCES salons (id),
  user_id INTEGER NOT NULL REFERENCES users (id),
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (salon_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE TABLE join_requests (
  salon_id INTEGER NOT NULL REFERENCES salons (id),
  user_id INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (salon_id, user_id)
);
CREATE INDEX join_requests_user ON join_requests (user_id);
CREATE TABLE messages (
  salon_id INTEGER NOT NULL REFERENCES salons (id),
  id INTEGER NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users (id),
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (salon_id, id)
);
CREATE INDEX messages_user ON messages (user_id);
CREATE TABLE direct_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  from_user_id INTEGER NOT NULL REFERENCES users (id),
  to_user_id INTEGER NOT NULL REFERENCES users (id),
  pair_low INTEGER NOT NULL,
  pair_high INTEGER NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX direct_messages_pair ON direct_messages (pair_low, pair_high, id);
CREATE INDEX direct_messages_to ON direct_messages (to_user_id);
CREATE TABLE sanctions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id),
  kind TEXT NOT NULL CHECK (kind IN ('kick', 'ban')),
  until_at INTEGER,
  reason TEXT NOT NULL DEFAULT '',
  by_user_id INTEGER REFERENCES users (id),
  created_at INTEGER NOT NULL,
  lifted_at INTEGER
);
CREATE INDEX sanctions_user ON sanctions (user_id, lifted_at);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, last_used_at);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  via TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- migration: 2
-- Tokens revoked by a ban are kept, marked, so that a hello with one is answered `banned`.
ALTER TABLE sessions ADD COLUMN revoked_by_ban INTEGER NOT NULL DEFAULT 0;

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
  user_id INTEGER NOT NULL REFERENCES users (id),
  salon_id INTEGER NOT NULL REFERENCES salons (id),
  last_read INTEGER NOT NULL,
  PRIMARY KEY (user_id, salon_id)
);
CREATE TABLE conversations (
  user_id INTEGER NOT NULL REFERENCES users (id),
  other_id INTEGER NOT NULL REFERENCES users (id),
  latest_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  last_read INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, other_id)
);
CREATE INDEX conversations_recent ON conversations (user_id, at, other_id);
CREATE INDEX conversations_other ON conversations (other_id);
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
-- version mention nobody.
ALTER TABLE messages ADD COLUMN mentions TEXT;
CREATE TABLE message_mentions (
  user_id INTEGER NOT NULL REFERENCES users (id),
  salon_id INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  PRIMARY KEY (user_id, salon_id, message_id),
  FOREIGN KEY (salon_id, message_id) REFERENCES messages (salon_id, id)
) WITHOUT ROWID;
CREATE INDEX message_mentions_message ON message_mentions (salon_id, message_id);

-- migration: 6
-- Importing the original server's database (issue 13, legacy/): which original row became
-- which of ours (`client` -> users.id, `salon` -> salons.id), and how far the import read the
-- tables it reads by increasing id (`membership`: salons_adheres.id, `message`:
-- messages.message_id), each written in the transaction of the batch it describes, so that a
-- re-run imports only what is new. A legacy password hash lives in users.password_hash as
-- `$legacy-sha256$<hex>` until the first login replaces it (auth/legacy_password.ts).
CREATE TABLE legacy_ids (
  kind TEXT NOT NULL CHECK (kind IN ('client', 'salon')),
  legacy_id INTEGER NOT NULL,
  our_id INTEGER NOT NULL,
  PRIMARY KEY (kind, legacy_id)
) WITHOUT ROWID;
CREATE TABLE legacy_marks (
  kind TEXT NOT NULL PRIMARY KEY CHECK (kind IN ('membership', 'message')),
  last_id INTEGER NOT NULL
);

-- migration: 7
-- Mute and slow mode (PROTOCOL.md 5.4). A salon's slow mode is stored with it (seconds between
-- two `say` of a member, 0 = off). A mute is in force from its creation until `until_at` unless
-- `lifted_at` is set (by an unmute, or by a newer mute of the same user and salon replacing it);
-- `salon_id` NULL is a mute everywhere (salons and direct messages). Like sanctions, the end is
-- absolute, so a restart neither forgets nor extends a mute.
ALTER TABLE salons ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0
  CHECK (slow_mode_seconds BETWEEN 0 AND 3600);
CREATE TABLE mutes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users (id),
  salon_id INTEGER REFERENCES salons (id),
  until_at INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  by_user_id INTEGER REFERENCES users (id),
  created_at INTEGER NOT NULL,
  lifted_at INTEGER
);
CREATE INDEX mutes_user ON mutes (user_id, lifted_at);
CREATE INDEX mutes_until ON mutes (until_at);
-- migration: 8
-- Edit, delete and reports (PROTOCOL.md 5.4). An edit replaces `text` (and, for a salon message,
-- `mentions` and its `message_mentions` rows) and sets `edited_at`; a delete erases the text
-- (`text` becomes '', `mentions` NULL, the mention rows go) and sets `deleted`: the row stays, so
-- that its id is never reused and history shows a tombstone. `reports` holds one row per reporter
-- and message (UNIQUE), the message's author and time as they were reported (a purge may delete
-- the message row; the report keeps no copy of the text), and its resolution.
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE direct_messages ADD COLUMN edited_at INTEGER;
ALTER TABLE direct_messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  salon_id INTEGER NOT NULL REFERENCES salons (id),
  message_id INTEGER NOT NULL,
  author_id INTEGER NOT NULL REFERENCES users (id),
  message_at INTEGER NOT NULL,
  reporter_id INTEGER NOT NULL REFERENCES users (id),
  reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolved_by INTEGER REFERENCES users (id),
  note TEXT NOT NULL DEFAULT '',
  UNIQUE (reporter_id, salon_id, message_id)
);
CREATE INDEX reports_open ON reports (resolved_at, id);
