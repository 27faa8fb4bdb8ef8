/**
 * Where the token is kept: for the tab's session (sessionStorage), or, with
 * "remember me", in localStorage so that it outlives the browser.
 *
 * @module
 */

const KEY = "causerie.token";

/** The two storages the browser offers (injected in tests). */
export interface Storages {
  /** Kept for the tab's session. */
  session: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /** Kept across sessions. */
  local: Pick<Storage, "getItem" | "setItem" | "removeItem">;
}

/** The kept token, if any (the tab's first). */
export function loadToken(s: Storages): string | null {
  return s.session.getItem(KEY) ?? s.local.getItem(KEY);
}

/** Keeps a token: for this tab, and in localStorage too when `remember`. */
export function saveToken(s: Storages, token: string, remember: boolean): void {
  s.session.setItem(KEY, token);
  if (remember) s.local.setItem(KEY, token);
  else s.local.removeItem(KEY);
}

/** Forgets the token everywhere (log out, or refused). */
export function clearToken(s: Storages): void {
  s.session.removeItem(KEY);
  s.local.removeItem(KEY);
}
