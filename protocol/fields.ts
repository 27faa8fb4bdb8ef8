/**
 * Field schemas shared by the HTTP API, the WebSocket frames and the CLI.
 * Every message names the field and the rule it breaks.
 *
 * @module
 */

import { z } from "zod";
import {
  charCount,
  displayNameProblem,
  PASSWORD_MAX,
  passwordProblem,
  usernameProblem,
} from "./names.ts";

/** A required string field whose type errors name the field. */
export function stringField(field: string): z.ZodString {
  return z.string({
    error: (issue) =>
      issue.input === undefined ? `${field} is required` : `${field} must be a string`,
  });
}

/** Longest `ref` a client may attach, in characters. */
export const MAX_REF = 64;

/** A frame's optional `ref`: a string of at most {@link MAX_REF} characters. */
export const refField = z.string().max(MAX_REF).optional();

/** A name a frame refers to (a salon, a user): 1–256 characters. */
export function nameRefField(field: string): z.ZodString {
  return stringField(field).min(1, { error: `${field} must not be empty` }).max(256, {
    error: `${field} must be at most 256 characters`,
  });
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** An optional short text (a reason, a note): up to `max` characters, no control characters. */
export function shortTextField(field: string, max: number) {
  return stringField(field).check((ctx) => {
    if (charCount(ctx.value) > max) {
      ctx.issues.push({
        code: "custom",
        message: `${field} must be at most ${max} characters`,
        input: ctx.value,
      });
    } else if (CONTROL.test(ctx.value)) {
      ctx.issues.push({
        code: "custom",
        message: `${field} must not contain control characters`,
        input: ctx.value,
      });
    }
  }).optional();
}

/** A username being registered: 3–32 of `[A-Za-z0-9_.-]`. */
export function usernameField(field = "username"): z.ZodType<string> {
  return stringField(field).check((ctx) => {
    const problem = usernameProblem(ctx.value, field);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  });
}

/** An alias: 1–64 printable characters, stored in NFC. */
export function aliasField(field = "alias"): z.ZodType<string> {
  return stringField(field).check((ctx) => {
    const problem = displayNameProblem(ctx.value, field);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  }).transform((v) => v.normalize("NFC"));
}

/** A new password: 8–256 characters. */
export function passwordField(field = "password"): z.ZodType<string> {
  return stringField(field).check((ctx) => {
    const problem = passwordProblem(ctx.value, field);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  });
}

/** A password being checked (login, current password): 1–256 characters. */
export function givenPasswordField(field = "password"): z.ZodType<string> {
  return stringField(field)
    .min(1, { error: `${field} must not be empty` })
    .max(PASSWORD_MAX, { error: `${field} must be at most ${PASSWORD_MAX} characters` });
}

/**
 * One sentence out of a failed parse: the first problem, which already names
 * its field. Unknown-object and wrong-root problems get a sentence of their own.
 */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "the request is not valid";
  if (issue.path.length === 0 && issue.code === "invalid_type") {
    return "the body must be a JSON object";
  }
  return issue.message;
}
