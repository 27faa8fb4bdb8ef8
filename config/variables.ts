/**
 * The environment variables Causerie reads, with their defaults and meanings:
 * the list `readEnvironment` (config.ts) reads, and the source of README's
 * configuration table (tests/config_test.ts keeps them in step).
 *
 * @module
 */

import { DEFAULT_SALONS } from "./salons.ts";

/** Every variable config.ts reads, with its default and meaning (the README table). */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default: string; meaning: string }> = [
  { name: "CAUSERIE_HOST", default: "127.0.0.1", meaning: "interface to listen on" },
  { name: "CAUSERIE_PORT", default: "8080", meaning: "TCP port (0 picks a free one)" },
  { name: "CAUSERIE_DB", default: "sqlite:data/causerie.db", meaning: "database URL" },
  { name: "CAUSERIE_ADMIN_SOCKET", default: "data/admin.sock", meaning: "admin Unix socket" },
  { name: "CAUSERIE_ADMIN_PASSWORD", default: "(none)", meaning: "bootstrap admin password" },
  { name: "CAUSERIE_KICK_MINUTES", default: "5", meaning: "default kick length" },
  { name: "CAUSERIE_SHUTDOWN_SECONDS", default: "10", meaning: "shutdown countdown" },
  { name: "CAUSERIE_SALONS", default: DEFAULT_SALONS, meaning: "salons and policies" },
  { name: "CAUSERIE_RATE_PER_SECOND", default: "5", meaning: "say/direct refill rate" },
  { name: "CAUSERIE_RATE_BURST", default: "10", meaning: "say/direct bucket size" },
  { name: "CAUSERIE_MAX_TEXT", default: "2000", meaning: "longest message" },
  { name: "CAUSERIE_MAX_SESSIONS", default: "5", meaning: "sessions per user" },
  { name: "CAUSERIE_LOG_LEVEL", default: "info", meaning: "debug, info, warn or error" },
  { name: "CAUSERIE_LOG_FORMAT", default: "json", meaning: "json lines, or pretty for a terminal" },
  {
    name: "CAUSERIE_MAX_CONNECTIONS",
    default: "(open-file limit less 10%)",
    meaning: "TCP connections at most",
  },
  {
    name: "CAUSERIE_MAX_CONNECTIONS_PER_ADDRESS",
    default: "256",
    meaning: "TCP connections per address",
  },
  { name: "CAUSERIE_PREWELCOME_MAX", default: "1024", meaning: "sockets not yet welcomed" },
  { name: "CAUSERIE_PREWELCOME_PER_ADDRESS", default: "8", meaning: "the same, per address" },
  { name: "CAUSERIE_CONNECT_BURST", default: "60", meaning: "connections per address, burst" },
  { name: "CAUSERIE_CONNECT_PER_SECOND", default: "10", meaning: "connections per address, rate" },
  { name: "CAUSERIE_ALLOWED_ORIGINS", default: "(none)", meaning: "other origins allowed on /ws" },
  { name: "CAUSERIE_HASH_QUEUE", default: "64", meaning: "password checks waiting at most" },
  {
    name: "CAUSERIE_SECURITY_LOG",
    default: "stderr",
    meaning: "security log: stderr, off or a path",
  },
  // Request budget (issue 9, item 5).
  { name: "CAUSERIE_REQUEST_BURST", default: "40", meaning: "per-session request bucket size" },
  {
    name: "CAUSERIE_REQUEST_PER_SECOND",
    default: "20",
    meaning: "per-session request refill rate",
  },
  {
    name: "CAUSERIE_ADMIN_PASSWORD_FILE",
    default: "(none)",
    meaning: "file holding the bootstrap admin password (a Docker secret)",
  },
  { name: "CAUSERIE_REGISTRATION", default: "open", meaning: "open, or closed: only admins" },
  {
    name: "CAUSERIE_REGISTER_PER_ADDRESS_PER_HOUR",
    default: "10",
    meaning: "registrations per address (IPv6 /64) per hour; 0: no limit",
  },
  {
    name: "CAUSERIE_REGISTER_PER_MINUTE",
    default: "60",
    meaning: "registrations per minute, all addresses; 0: no limit",
  },
  {
    name: "CAUSERIE_TRUSTED_PROXIES",
    default: "(none)",
    meaning: "proxy addresses/CIDRs whose X-Forwarded-For/Forwarded are believed",
  },
  // Presence at scale (PROTOCOL 5.1).
  {
    name: "CAUSERIE_PRESENCE_SALON_MAX",
    default: "100",
    meaning: "salons with more members are large: presence is watched, not pushed",
  },
  // Stately's inspector for developers (issue 12, item 3).
  {
    name: "CAUSERIE_INSPECT",
    default: "off",
    meaning: "off, or stately: send the actors to Stately's inspector (loopback host only)",
  },
  {
    name: "CAUSERIE_INSPECT_URL",
    default: "ws://127.0.0.1:8081",
    meaning: "the Stately inspector relay, a loopback ws:// URL",
  },
  {
    name: "CAUSERIE_EDIT_MINUTES",
    default: "15",
    meaning: "how long an author may edit a message, minutes (0: never)",
  },
  // Several instances (issue 15).
  {
    name: "CAUSERIE_BUS",
    default: "(none: one process)",
    meaning: "redis://host:port/db: the bus between instances (needs a mysql:// CAUSERIE_DB)",
  },
  {
    name: "CAUSERIE_NODE_BEAT_MS",
    default: "2000",
    meaning: "with a bus: how often an instance beats in the database, ms",
  },
  {
    name: "CAUSERIE_NODE_DEAD_MS",
    default: "10000",
    meaning: "with a bus: an instance silent this long is dead and reaped, ms",
  },
  {
    name: "CAUSERIE_SALON_GAP_WAIT_MS",
    default: "200",
    meaning: "with a bus: a missing salon message id is read from the database after this, ms",
  },
  {
    name: "CAUSERIE_SALON_CHECK_MS",
    default: "1000",
    meaning: "with a bus: how often each salon's last message id is checked in the database, ms",
  },
  {
    name: "CAUSERIE_BUS_PROBE_MS",
    default: "5000",
    meaning: "with a bus: how often it probes its own subscription (silent: reconnect), ms",
  },
];
