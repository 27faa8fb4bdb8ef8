/**
 * The admin API, PROTOCOL.md section 3, served twice: on the main port at
 * `/admin` for moderator and admin bearer tokens, and on the local admin
 * socket with no credentials (whoever can open the socket file is admin).
 *
 * @module
 */

import { type Context, Hono } from "hono";
import type { z } from "zod";
import type { Accounts } from "../auth/accounts.ts";
import { publicUser } from "../auth/accounts.ts";
import { bearerToken } from "../auth/tokens.ts";
import {
  type ActorInfo,
  AnnounceBody,
  BanBody,
  CreateUserBody,
  KickBody,
  MuteBody,
  PasswordResetBody,
  RoleBody,
  ShutdownBody,
  SlowModeBody,
  UnmuteQuery,
} from "../protocol/admin.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { machineDefinitions } from "../actors/machines.ts";
import { type Moderation, type Moderator, serverModerator } from "../runtime/moderation.ts";
import { readJson, readQuery } from "./body.ts";
import type { MessageDesk } from "../runtime/message_desk.ts";
import { addMessageRoutes } from "./admin_messages.ts";

/** What the admin routes need. */
export interface AdminOptions {
  /** The moderation desk. */
  moderation: Moderation;
  /** Accounts (bearer tokens). */
  accounts: Accounts;
  /** The live actor tree. */
  actors: () => ActorInfo[];
  /** `"socket"`: every request is the server itself; `"http"`: bearer tokens. */
  via: "http" | "socket";
  /** The desk of edit, delete and reports (PROTOCOL 5.4); absent: those routes are not served. */
  messages?: MessageDesk;
}

/** Largest `limit` of `GET /admin/audit`. */
export const AUDIT_MAX = 1000;

/** Reads an optional JSON body: empty means `{}` (and then needs no Content-Type). */
function optionalBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  return readJson(c, schema, { optional: true });
}

/** The admin routes, to be mounted at `/admin`. */
export function adminRoutes(opts: AdminOptions): Hono<{ Variables: { actor: Moderator } }> {
  const { moderation, accounts } = opts;
  const admin = new Hono<{ Variables: { actor: Moderator } }>();

  admin.use(async (c, next) => {
    if (opts.via === "socket") {
      c.set("actor", serverModerator("socket"));
    } else {
      const user = await accounts.authenticate(bearerToken(c.req.header("authorization")));
      c.set("actor", { username: user.username, userId: user.id, role: user.role, via: "http" });
    }
    await next();
  });

  admin.get("/users", async (c) => {
    const status = c.req.query("status");
    if (status !== undefined && status !== "online") {
      throw new ProtocolError("invalid", 400, "status must be online (or absent for everyone)");
    }
    const users = await moderation.users(c.var.actor, { status });
    return c.json({ users }, 200);
  });

  admin.post("/users", async (c) => {
    const body = await readJson(c, CreateUserBody);
    const user = await moderation.createUser(c.var.actor, body);
    return c.json({ user: publicUser(user) }, 201);
  });

  admin.post("/users/:username/kick", async (c) => {
    const body = await optionalBody(c, KickBody);
    const { until } = await moderation.kick(c.var.actor, c.req.param("username"), body);
    return c.json({ ok: true, until }, 200);
  });

  admin.post("/users/:username/ban", async (c) => {
    const body = await optionalBody(c, BanBody);
    await moderation.ban(c.var.actor, c.req.param("username"), body);
    return c.json({ ok: true }, 200);
  });

  admin.delete("/users/:username/ban", async (c) => {
    const { lifted } = await moderation.unban(c.var.actor, c.req.param("username"));
    return c.json({ ok: true, lifted }, 200);
  });

  admin.put("/users/:username/role", async (c) => {
    const { role } = await readJson(c, RoleBody);
    await moderation.setRole(c.var.actor, c.req.param("username"), role);
    return c.json({ ok: true, role }, 200);
  });

  admin.put("/users/:username/password", async (c) => {
    const { password } = await readJson(c, PasswordResetBody);
    await moderation.resetPassword(c.var.actor, c.req.param("username"), password);
    return c.body(null, 204);
  });

  admin.get("/join-requests", async (c) => {
    return c.json({ pending: await moderation.requests(c.var.actor) }, 200);
  });

  for (const decision of ["accept", "reject"] as const) {
    admin.post(`/join-requests/:salon/:username/${decision}`, async (c) => {
      await moderation.decide(
        c.var.actor,
        c.req.param("salon"),
        c.req.param("username"),
        decision === "accept",
      );
      return c.json({ ok: true }, 200);
    });
  }

  admin.post("/announce", async (c) => {
    const { text } = await readJson(c, AnnounceBody);
    await moderation.announce(c.var.actor, text);
    return c.json({ ok: true }, 200);
  });

  admin.post("/shutdown", async (c) => {
    const { seconds } = await optionalBody(c, ShutdownBody);
    const started = await moderation.shutdown(c.var.actor, seconds);
    return c.json({ ok: true, seconds: started.seconds }, 202);
  });

  admin.delete("/shutdown", async (c) => {
    await moderation.cancelShutdown(c.var.actor);
    return c.json({ ok: true }, 200);
  });

  admin.get("/audit", async (c) => {
    const raw = c.req.query("limit");
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX) {
      throw new ProtocolError(
        "invalid",
        400,
        `limit must be a whole number from 1 to ${AUDIT_MAX}`,
      );
    }
    return c.json({ entries: await moderation.audit(c.var.actor, limit) }, 200);
  });

  admin.get("/actors", async (c) => {
    await moderation.assertCanInspect(c.var.actor);
    return c.json({ actors: opts.actors() }, 200);
  });

  // PROTOCOL 5.5: every machine's definition (toJSON() plus `always` and guard words), by name.
  admin.get("/machines", async (c) => {
    await moderation.assertCanInspect(c.var.actor);
    return c.json(machineDefinitions(), 200);
  });

  // Edit, delete and reports (PROTOCOL 5.4): routes/admin_messages.ts.
  if (opts.messages) addMessageRoutes(admin, opts.messages);

  // Mute and slow mode (PROTOCOL 5.4).
  admin.post("/users/:username/mute", async (c) => {
    const body = await optionalBody(c, MuteBody);
    const { until } = await moderation.mute(c.var.actor, c.req.param("username"), body);
    return c.json({ ok: true, until }, 200);
  });

  admin.delete("/users/:username/mute", async (c) => {
    const { salon } = readQuery(c, UnmuteQuery);
    const { lifted } = await moderation.unmute(
      c.var.actor,
      c.req.param("username"),
      salon === undefined ? {} : { salon },
    );
    return c.json({ ok: true, lifted }, 200);
  });

  admin.put("/salons/:salon/slow-mode", async (c) => {
    const { seconds } = await readJson(c, SlowModeBody);
    const done = await moderation.slowMode(c.var.actor, c.req.param("salon"), seconds);
    return c.json({ ok: true, salon: done.salon, slowModeSeconds: done.seconds }, 200);
  });

  return admin;
}
