/**
 * Request bodies of the account API (PROTOCOL.md section 1).
 *
 * @module
 */

import { z } from "zod";
import { aliasField, givenPasswordField, passwordField, usernameField } from "./fields.ts";

/** `POST /api/register` `{username, alias, password}`. */
export const RegisterBody = z.object({
  username: usernameField(),
  alias: aliasField(),
  password: passwordField(),
});
/** A parsed {@link RegisterBody}. */
export type RegisterBody = z.infer<typeof RegisterBody>;

/** `POST /api/login` `{username, password}`. */
export const LoginBody = z.object({
  username: usernameField(),
  password: givenPasswordField(),
});
/** A parsed {@link LoginBody}. */
export type LoginBody = z.infer<typeof LoginBody>;

/** `POST /api/password` `{current, next}`. */
export const PasswordBody = z.object({
  current: givenPasswordField("current"),
  next: passwordField("next"),
});
/** A parsed {@link PasswordBody}. */
export type PasswordBody = z.infer<typeof PasswordBody>;

/** A user as clients see it. */
export interface PublicUser {
  /** Username as registered. */
  username: string;
  /** Alias as registered. */
  alias: string;
  /** Role. */
  role: "member" | "moderator" | "admin";
}

/** A salon as clients see it (in `welcome` and `GET /api/me`). */
export interface SalonView {
  /** Name as configured. */
  name: string;
  /** Admission policy. */
  policy: "auto" | "open" | "approval";
  /** Whether the user is a member. */
  member: boolean;
  /** Whether the user has a pending join request. */
  pending: boolean;
  /** Connected members (users, not sessions). */
  online: number;
  /** Members (PROTOCOL 5.1). */
  members: number;
  /**
   * `push` for a small salon (its members' presence changes are pushed),
   * `watch` for a large one (watch the users you show).
   */
  presence: "push" | "watch";
  /** Slow mode (PROTOCOL 5.4): seconds a member waits between two `say`; 0 = off. */
  slowModeSeconds: number;
}
