/**
 * Field schemas shared by the HTTP API, the WebSocket frames and the CLI.
 * Every message names the field and the rule it breaks.
 *
 * @module
 */

import { z } from "zod";
import { displayNameProblem, PASSWORD_MAX, passwordProblem, usernameProblem } from "./names.ts";

/** A required string field whose type errors name the field. */
export function stringField(field: string): z.ZodString {
  return z.string({
    error: (issue) =>
      issue.input === undefined ? `${field} is required` : `${field} must be a string`,
  });
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
