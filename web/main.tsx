/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The browser entry point: builds the chat on the page's WebSocket, keeps
 * the token (tab session, or localStorage with "remember me") and renders.
 *
 * @module
 */

import { signal } from "@preact/signals";
import { render } from "preact";
import { logout as apiLogout } from "./core/api.ts";
import { clearToken, loadToken, saveToken, type Storages } from "./core/auth_storage.ts";
import { Chat } from "./core/chat.ts";
import type { SocketLike } from "./core/connection.ts";
import type { App } from "./views/app_state.ts";
import { Root } from "./views/app.tsx";

const storages: Storages = { session: sessionStorage, local: localStorage };
const wsUrl = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;

const app: App = {
  chat: new Chat({
    createSocket: () => new WebSocket(wsUrl) as unknown as SocketLike,
    onCredentialsRefused: () => {
      clearToken(storages);
      app.chat.disconnect();
      app.loginNote.value = "Your session has ended; log in again.";
      app.screen.value = "login";
    },
  }),
  storages,
  fetch: (input, init) => fetch(input, init),
  screen: signal("login"),
  loginNote: signal(""),
  enter(token, remember) {
    saveToken(storages, token, remember);
    app.screen.value = "chat";
    app.chat.connect(token);
  },
  async logout() {
    const token = app.chat.token;
    app.chat.disconnect();
    clearToken(storages);
    app.screen.value = "login";
    if (token) await apiLogout(app.fetch, token);
  },
};

addEventListener("online", () => app.chat.connection.retryNow());

const kept = loadToken(storages);
if (kept) {
  storages.session.setItem("causerie.token", kept);
  app.screen.value = "chat";
  app.chat.connect(kept);
}

render(<Root app={app} />, document.getElementById("app")!);
