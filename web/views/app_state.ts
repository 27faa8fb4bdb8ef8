/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The view layer's shared state: the chat, the browser services it was
 * given, and which screen shows (login, register, chat).
 *
 * @module
 */

import { signal } from "@preact/signals";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Chat } from "../core/chat.ts";
import type { Storages } from "../core/auth_storage.ts";

/** What every view may use. */
export interface App {
  /** The chat core. */
  chat: Chat;
  /** Token storages. */
  storages: Storages;
  /** `fetch` for the account API. */
  fetch: typeof fetch;
  /** The screen shown. */
  screen: ReturnType<typeof signal<"login" | "register" | "chat">>;
  /** A message for the login screen (session ended, account created). */
  loginNote: ReturnType<typeof signal<string>>;
  /** Logs in with a token (after a login or a kept one). */
  enter(token: string, remember: boolean): void;
  /** Logs out. */
  logout(): Promise<void>;
}

/** The app context. */
export const AppContext = createContext<App | null>(null);

/** The app, in a view. */
export function useApp(): App {
  const app = useContext(AppContext);
  if (!app) throw new Error("useApp: render inside <AppContext.Provider>");
  return app;
}
