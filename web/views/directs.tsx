/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Direct messages: the "Direct messages" navigation (each entry named after
 * the other user first, with a presence dot and the unread count; older
 * conversations with "More conversations" or by scrolling to its end), and
 * the "New message" dialog (a "Search people" field over the members of
 * the user's salons, arrows to move, Enter to open, Escape to close). The
 * users shown are watched while on screen (PROTOCOL 5.1).
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { UserRef } from "../../protocol/events.ts";
import { directKey } from "../core/keys.ts";
import { useApp } from "./app_state.ts";
import { Modal } from "./dialogs.tsx";
import { hrefOf } from "./sidebar.tsx";

/** A presence dot: filled for online, a ring for offline, and the word for screen readers. */
export function PresenceDot(p: { username: string }): JSX.Element | null {
  const { chat } = useApp();
  const status = chat.presence.status.value.get(p.username.toLowerCase());
  if (!status) return null;
  return (
    <span class={`presence ${status}`} title={status}>
      <span class="dot" aria-hidden="true" />
      <span class="visually-hidden">{status}</span>
    </span>
  );
}

/** The direct conversations, newest first. */
export function DirectList(): JSX.Element {
  const { chat } = useApp();
  const [dialog, setDialog] = useState(false);
  const active = chat.salons.active.value;
  const directs = chat.salons.directs.value;
  const more = chat.people.moreConversations.value;
  const loading = chat.people.loadingConversations.value;
  const end = useRef<HTMLLIElement>(null);
  const shown = directs.map((d) => d.with.username).join("\n");

  useEffect(() => {
    chat.watcher.show("directs", shown ? shown.split("\n") : []);
  }, [shown]);

  useEffect(() => {
    const el = end.current;
    if (!el || !more || typeof IntersectionObserver === "undefined") return;
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) chat.moreConversations();
    });
    seen.observe(el);
    return () => seen.disconnect();
  }, [more, directs.length]);

  return (
    <nav aria-label="Direct messages" class="directs">
      <div class="section-head">
        <h2 class="section-title">Direct messages</h2>
        <button type="button" class="secondary small" onClick={() => setDialog(true)}>
          New message
        </button>
      </div>
      {directs.length === 0 && <p class="muted">No conversation yet.</p>}
      <ul>
        {directs.map((d) => {
          const key = directKey(d.with.username);
          return (
            <li key={d.with.username}>
              <a
                href={hrefOf(key)}
                class={`entry${active === key ? " active" : ""}`}
                aria-current={active === key ? "page" : undefined}
              >
                <span class="name">{d.with.alias}</span> <PresenceDot username={d.with.username} />
                {d.unread > 0 && (
                  <span class="badges">
                    {" "}
                    <span class="badge">{d.unread >= 1000 ? "999+" : d.unread} unread</span>
                  </span>
                )}
              </a>
            </li>
          );
        })}
        {more && (
          <li ref={end}>
            <button
              type="button"
              class="secondary small"
              disabled={loading}
              onClick={() => chat.moreConversations()}
            >
              {loading ? "Loading…" : "More conversations"}
            </button>
          </li>
        )}
      </ul>
      <NewMessageDialog open={dialog} onClose={() => setDialog(false)} />
    </nav>
  );
}

/** "New message": find a member of one's salons and open the conversation with them. */
export function NewMessageDialog(p: { open: boolean; onClose: () => void }): JSX.Element {
  return (
    <Modal open={p.open} onClose={p.onClose} labelledBy="new-message-title">
      <PeopleSearch onClose={p.onClose} />
    </Modal>
  );
}

function PeopleSearch(p: { onClose: () => void }): JSX.Element {
  const { chat } = useApp();
  const [q, setQ] = useState("");
  const [at, setAt] = useState(0);
  useEffect(() => {
    chat.findPeople();
    return () => chat.watcher.show("search", []);
  }, []);
  const me = chat.session.user.value?.username ?? "";
  const found = chat.people.matching(q, me, 20);
  const names = found.map((u) => u.username).join("\n");
  useEffect(() => {
    chat.watcher.show("search", names ? names.split("\n") : []);
  }, [names]);
  const current = Math.min(at, Math.max(0, found.length - 1));
  const go = (u: UserRef | undefined) => {
    if (!u) return;
    location.hash = hrefOf(chat.startDirect(u));
    p.onClose();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!found.length) return;
      const step = e.key === "ArrowDown" ? 1 : -1;
      setAt((current + step + found.length) % found.length);
    } else if (e.key === "Enter") {
      e.preventDefault();
      go(found[current]);
    }
  };
  const searching = chat.people.searching.value > 0;
  return (
    <div class="people">
      <h2 id="new-message-title">New message</h2>
      <label for="people-search">Search people</label>
      <input
        id="people-search"
        type="search"
        aria-controls="people-results"
        aria-autocomplete="list"
        aria-activedescendant={found.length ? `person-${current}` : undefined}
        autoFocus
        autocomplete="off"
        value={q}
        onInput={(e) => {
          setQ((e.currentTarget as HTMLInputElement).value);
          setAt(0);
        }}
        onKeyDown={onKey}
      />
      <p class="muted" aria-live="polite">
        {searching
          ? "Looking through your salons…"
          : found.length === 0
          ? "Nobody found among the members of your salons."
          : chat.people.partial.value
          ? "Members of your salons (a large salon lists its first 200)."
          : "Members of your salons."}
      </p>
      <ul id="people-results" role="listbox" aria-label="People" class="people-list">
        {found.map((u, i) => (
          <li
            key={u.username}
            id={`person-${i}`}
            role="option"
            aria-selected={i === current}
            class={i === current ? "selected" : ""}
            onClick={() => go(u)}
          >
            <span class="name">{u.alias}</span> <span class="muted">({u.username})</span>{" "}
            <PresenceDot username={u.username} />
          </li>
        ))}
      </ul>
      <button type="button" class="secondary" onClick={p.onClose}>Close</button>
    </div>
  );
}
