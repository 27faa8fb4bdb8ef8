/**
 * The account API, PROTOCOL.md section 1: `/api/register`, `/api/login`,
 * `/api/password`, `/api/logout`, `/api/me`, and `/api/logout-all` (5.6).
 *
 * @module
 */

import { Hono } from "hono";
import { type Accounts, publicUser } from "../auth/accounts.ts";
import { bearerToken } from "../auth/tokens.ts";
import { LoginBody, PasswordBody, RegisterBody } from "../protocol/http.ts";
import { clientAddress, readJson } from "./body.ts";

/** The account routes, to be mounted at `/api`. */
export function apiRoutes(accounts: Accounts): Hono {
  const api = new Hono();

  api.post("/register", async (c) => {
    const body = await readJson(c, RegisterBody);
    const user = await accounts.register(body, "member", { address: clientAddress(c) });
    return c.json({ user: publicUser(user) }, 201);
  });

  api.post("/login", async (c) => {
    const body = await readJson(c, LoginBody);
    const { token, user } = await accounts.login(body, clientAddress(c));
    return c.json({ token, user: publicUser(user) }, 200);
  });

  api.post("/password", async (c) => {
    const token = bearerToken(c.req.header("authorization"));
    const user = await accounts.authenticate(token);
    const body = await readJson(c, PasswordBody);
    await accounts.changePassword(user, body, clientAddress(c), token);
    return c.body(null, 204);
  });

  api.post("/logout", async (c) => {
    await accounts.logout(bearerToken(c.req.header("authorization")), clientAddress(c));
    return c.body(null, 204);
  });

  api.post("/logout-all", async (c) => {
    await accounts.logoutAll(bearerToken(c.req.header("authorization")), clientAddress(c));
    return c.body(null, 204);
  });

  api.get("/me", async (c) => {
    const user = await accounts.authenticate(bearerToken(c.req.header("authorization")));
    return c.json({ user: publicUser(user), salons: await accounts.salonsOf(user) }, 200);
  });

  return api;
}
