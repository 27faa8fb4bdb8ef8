/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The root view: the login or register screen, or the chat (sidebar,
 * conversation, banners), with the keyboard shortcuts: Alt+Up/Down between
 * conversations, Ctrl+K to jump, Escape closes dialogs (native).
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type ConversationKey, directKey, salonKey } from "../core/keys.ts";
import { type App, AppContext, useApp } from "./app_state.ts";
import { Alerts, Announcements, ConnectionStatus } from "./banners.tsx";
import { Conversation } from "./conversation.tsx";
import { AccountDialog, JumpDialog } from "./dialogs.tsx";
import { LoginForm, RegisterForm } from "./login.tsx";
import { hrefOf, Sidebar } from "./sidebar.tsx";

/** The conversation named by the address's hash, if any. */
export function keyFromHash(hash: string): ConversationKey | null {
  const m = /^#\/(s|d)\/(.+)$/.exec(hash);
  if (!m) return null;
  let name: string;
  try {
    name = decodeURIComponent(m[2]);
  } catch {
    return null;
  }
  return m[1] === "s" ? salonKey(name) : directKey(name);
}

/** The whole client. */
export function Root(p: { app: App }): JSX.Element {
  return (
    <AppContext.Provider value={p.app}>
      <Screen />
    </AppContext.Provider>
  );
}

function Screen(): JSX.Element {
  const app = useApp();
  const screen = app.screen.value;
  if (screen === "login") return <LoginForm />;
  if (screen === "register") return <RegisterForm />;
  return <ChatScreen />;
}

function ChatScreen(): JSX.Element {
  const { chat } = useApp();
  const [jump, setJump] = useState(false);
  const [account, setAccount] = useState(false);
  const [navOpen, setNavOpen] = useState(false);
  const active = chat.salons.active.value;

  useEffect(() => {
    const follow = () => {
      const key = keyFromHash(location.hash);
      if (key) chat.open(key);
      setNavOpen(false);
    };
    follow();
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setJump(true);
      } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        const keys: string[] = [
          ...chat.salons.salons.value.map((s) => salonKey(s.name)),
          ...chat.salons.directs.value.map((d) => directKey(d.with.username)),
        ];
        const at = keys.indexOf(chat.salons.active.value ?? "");
        const next = keys[(at + (e.key === "ArrowUp" ? -1 : 1) + keys.length) % keys.length];
        if (next) location.hash = hrefOf(next);
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  const user = chat.session.user.value;
  return (
    <div class={`layout${navOpen ? " nav-open" : ""}`}>
      <header class="top">
        <button
          type="button"
          class="menu secondary"
          aria-expanded={navOpen}
          aria-controls="sidebar"
          onClick={() => setNavOpen(!navOpen)}
        >
          Conversations
        </button>
        <h1>Causerie</h1>
        <ConnectionStatus />
        <button type="button" class="secondary" onClick={() => setJump(true)} title="Ctrl+K">
          Jump to…
        </button>
        <button type="button" class="secondary" onClick={() => setAccount(true)}>
          {user ? user.alias : "Account"}
        </button>
      </header>
      <Alerts />
      <Announcements />
      <aside id="sidebar" class="sidebar">
        <Sidebar />
      </aside>
      <main class="main">
        {active ? <Conversation conversation={active} /> : <p class="muted">Pick a salon.</p>}
      </main>
      <JumpDialog open={jump} onClose={() => setJump(false)} />
      <AccountDialog open={account} onClose={() => setAccount(false)} />
    </div>
  );
}
