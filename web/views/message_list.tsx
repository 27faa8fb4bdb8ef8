/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The open conversation's messages: a `role="log"` div around the list,
 * with only a window of the history in the DOM (at most {@link WINDOW}
 * messages; scrolling past either end moves the window, and scrolling above
 * the oldest message held loads the page before it). Messages are marked read
 * as they come into view. Each message shows "(edited)" once edited, a
 * deleted one "Message deleted", and its actions (./message_actions.tsx).
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { colourOf, rows, type Segment, segments } from "../core/format.ts";
import type { ConversationKey } from "../core/keys.ts";
import type { ChatItem, PendingItem } from "../core/stores/messages.ts";
import { useApp } from "./app_state.ts";
import {
  actionsFor,
  DeleteDialog,
  type MessageAction,
  MessageMenu,
  ReportDialog,
} from "./message_actions.tsx";

/** Most messages in the DOM at once. */
export const WINDOW = 150;
/** How far the window moves at a time. */
const STEP = 50;

function Text(p: { segs: Segment[] }): JSX.Element {
  return (
    <>
      {p.segs.map((s, i) =>
        s.kind === "text"
          ? s.text
          : s.kind === "link"
          ? (
            <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
              {s.text}
            </a>
          )
          : <span key={i} class={s.me ? "mention me" : "mention"}>{s.text}</span>
      )}
    </>
  );
}

function timeOf(at: string): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** What a message row needs besides its item: its actions and their menu's state. */
interface MessageProps {
  item: ChatItem;
  grouped: boolean;
  me: string;
  actions: MessageAction[];
  menuOpen: boolean;
  onMenu: (open: boolean) => void;
  onAction: (a: MessageAction) => void;
}

function Message(p: MessageProps): JSX.Element {
  const { item } = p;
  if (item.deleted) {
    return (
      <li class="message deleted" data-id={item.id}>
        <time dateTime={item.at} title={new Date(item.at).toLocaleString()}>{timeOf(item.at)}</time>
        <p class="text tombstone">Message deleted</p>
      </li>
    );
  }
  const toMe = item.mentions?.some((m) => m.toLowerCase() === p.me.toLowerCase());
  return (
    <li
      class={`message${p.grouped ? " grouped" : ""}${toMe ? " to-me" : ""}`}
      data-id={item.id}
    >
      <span class={`from c${colourOf(item.from.username)}${p.grouped ? " visually-hidden" : ""}`}>
        {item.from.alias}
      </span>
      <time dateTime={item.at} title={new Date(item.at).toLocaleString()}>{timeOf(item.at)}</time>
      <p class="text">
        <Text segs={segments(item.text, item.mentions, p.me)} />
        {item.editedAt && (
          <>
            {" "}
            <span class="edited" title={`Edited ${new Date(item.editedAt).toLocaleString()}`}>
              (edited)
            </span>
          </>
        )}
      </p>
      {p.actions.length > 0 && (
        <MessageMenu
          item={item}
          actions={p.actions}
          open={p.menuOpen}
          onToggle={p.onMenu}
          onAction={p.onAction}
        />
      )}
    </li>
  );
}

function Pending(p: { item: PendingItem; onRetry: () => void; onDismiss: () => void }) {
  const { item } = p;
  return (
    <li class={`message pending${item.error ? " failed" : ""}`}>
      <span class="from">You</span>
      <time dateTime={item.at}>{item.error ? "not sent" : "sending…"}</time>
      <p class="text">{item.text}</p>
      {item.error && (
        <p class="error">
          {item.error.message}{" "}
          <button type="button" class="link" onClick={p.onRetry}>Send again</button>{" "}
          <button type="button" class="link" onClick={p.onDismiss}>Dismiss</button>
        </p>
      )}
    </li>
  );
}

/** The message list of `conversation`. */
export function MessageList(p: { conversation: ConversationKey }): JSX.Element {
  const { chat } = useApp();
  const key = p.conversation;
  const thread = chat.messages.thread(key).value;
  const me = chat.session.user.value?.username ?? "";
  const role = chat.session.user.value?.role;
  // The message whose actions are shown, and the dialog an action opened.
  const [menu, setMenu] = useState<number | null>(null);
  const [dialog, setDialog] = useState<{ kind: "delete" | "report"; item: ChatItem } | null>(
    null,
  );
  const act = (item: ChatItem, a: MessageAction) => {
    if (a === "edit") {
      if (chat.startEdit(key, item.id)) document.getElementById("composer-input")?.focus();
    } else setDialog({ kind: a, item });
  };
  // The read marker when the conversation was opened: the "new messages" divider stays there.
  const marker = useMemo(() => {
    const u = chat.salons.unreadOf(key);
    return u && u.lastRead < u.latest ? u.lastRead : null;
  }, [key]);
  // End of the window (exclusive); null: follow the newest message.
  const [end, setEnd] = useState<number | null>(null);
  useEffect(() => setEnd(null), [key]);
  const items = thread.items;
  const stop = end === null ? items.length : Math.min(end, items.length);
  const start = Math.max(0, stop - WINDOW);
  const shown = items.slice(start, stop);
  // `items` changes identity with every change, an edit or a deletion in the middle included.
  const list = useMemo(() => rows(shown, marker, me), [items, start, stop, marker, me]);

  const box = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ id: string; offset: number } | null>(null);
  const following = end === null;

  /** Remembers the first message in view, to keep it in place when the window moves. */
  const remember = () => {
    const el = box.current;
    if (!el) return;
    for (const li of el.querySelectorAll<HTMLElement>("li[data-id]")) {
      if (li.offsetTop + li.offsetHeight > el.scrollTop) {
        anchor.current = { id: li.dataset.id!, offset: li.offsetTop - el.scrollTop };
        return;
      }
    }
  };

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.dataset.atBottom !== "false";
    if (following && atBottom) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const a = anchor.current;
    const li = a && el.querySelector<HTMLElement>(`li[data-id="${a.id}"]`);
    if (a && li) el.scrollTop = li.offsetTop - a.offset;
  });

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    el.dataset.atBottom = String(atBottom);
    remember();
    if (el.scrollTop < 80) {
      if (start > 0) setEnd(Math.max(WINDOW, stop - STEP));
      else chat.loadOlder(key);
    } else if (atBottom && end !== null) {
      setEnd(end + STEP >= items.length ? null : end + STEP);
    }
  };

  // Read markers: the highest id that came into view, while the page is visible.
  useEffect(() => {
    const el = box.current;
    if (!el || typeof IntersectionObserver === "undefined") return;
    const seen = new IntersectionObserver((entries) => {
      if (document.visibilityState !== "visible") return;
      let top = 0;
      for (const e of entries) {
        if (e.isIntersecting) top = Math.max(top, Number((e.target as HTMLElement).dataset.id));
      }
      if (top) chat.markRead(key, top);
    }, { root: el, threshold: 0.5 });
    el.querySelectorAll("li[data-id]").forEach((li) => seen.observe(li));
    return () => seen.disconnect();
  }, [key, list]);

  const retry = (pi: PendingItem) => {
    chat.messages.dismiss(key, pi.ref);
    chat.say(key, pi.text);
  };

  return (
    <>
      <div
        class="log"
        role="log"
        aria-label="Messages"
        aria-live="polite"
        ref={box}
        onScroll={onScroll}
        tabIndex={0}
      >
        {thread.loadingOlder && <p class="muted center">Loading older messages…</p>}
        {thread.loaded && !thread.more && start === 0 && (
          <p class="muted center">This is the beginning of the conversation.</p>
        )}
        <ol class="messages">
          {list.map((r) =>
            r.kind === "day"
              ? (
                <li key={r.key} class="day">
                  <span>{r.label}</span>
                </li>
              )
              : r.kind === "divider"
              ? (
                <li key={r.key} class="divider">
                  <span>New messages</span>
                </li>
              )
              : (
                <Message
                  key={r.key}
                  item={r.item}
                  grouped={r.grouped}
                  me={me}
                  actions={actionsFor(r.item, key, me, role, chat.canEdit(r.item))}
                  menuOpen={menu === r.item.id}
                  onMenu={(open) => setMenu(open ? r.item.id : null)}
                  onAction={(a) => act(r.item, a)}
                />
              )
          )}
          {following && thread.pending.map((pi) => (
            <Pending
              key={pi.ref}
              item={pi}
              onRetry={() => retry(pi)}
              onDismiss={() => chat.messages.dismiss(key, pi.ref)}
            />
          ))}
        </ol>
      </div>
      <DeleteDialog
        conversation={key}
        item={dialog?.kind === "delete" ? dialog.item : null}
        onClose={() => setDialog(null)}
      />
      <ReportDialog
        conversation={key}
        item={dialog?.kind === "report" ? dialog.item : null}
        onClose={() => setDialog(null)}
      />
    </>
  );
}
