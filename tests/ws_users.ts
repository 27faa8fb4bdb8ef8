/**
 * Test users for the socket suites: `name` registers with the alias `Name`
 * and the password {@link pw}, over HTTP, and says hello with a password.
 *
 * @module
 */

import { registerHttp, session, type TestServer } from "./ws_client.ts";

/** The password of test user `name`. */
export const pw = (name: string): string => `${name} secret password`;

/** The alias of test user `name`: its first letter upper-cased. */
export const alias = (name: string): string => name[0].toUpperCase() + name.slice(1);

/** Registers users over HTTP, each with alias {@link alias} and password {@link pw}. */
export async function users(srv: TestServer, ...names: string[]): Promise<void> {
  for (const name of names) await registerHttp(srv.url, name, alias(name), pw(name));
}

/** A password hello for a user registered with {@link users}; `label` names the client. */
export function login(srv: TestServer, name: string, label = name): ReturnType<typeof session> {
  return session(srv, { username: name, password: pw(name) }, label);
}
