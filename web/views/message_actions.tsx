/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What one can do with a message (PROTOCOL 5.4): its "Message actions"
 * button opens a short list (Edit and Delete on one's own messages, Report
 * on others' salon messages, Delete on any salon message for moderators);
 * Escape or leaving it closes it. Delete asks for a confirmation, Report for
 * a reason, in the shared {@link Modal}.
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ConversationKey } from "../core/keys.ts";
import { keyName } from "../core/keys.ts";
import { REASON_MAX } from "../core/moderation_tools.ts";
import type { ChatItem } from "../core/stores/messages.ts";
import { useApp } from "./app_state.ts";
import { Modal } from "./dialogs.tsx";

/** An action offered on a message. */
export type MessageAction = "edit" | "delete" | "report";

/**
 * The actions `me` (with `role`) may take on `item` of `key`; `editable`:
 * whether the edit window is still open (`Chat.canEdit`).
 */
export function actionsFor(
  item: ChatItem,
  key: ConversationKey,
  me: string,
  role: string | undefined,
  editable = true,
): MessageAction[] {
  if (item.deleted) return [];
  const mine = item.from.username === me;
  if (mine) return editable ? ["edit", "delete"] : ["delete"];
  if (!key.startsWith("s:")) return [];
  return role === "moderator" || role === "admin" ? ["report", "delete"] : ["report"];
}

const LABEL: Record<MessageAction, string> = {
  edit: "Edit",
  delete: "Delete",
  report: "Report",
};

/** The "Message actions" button and its list. */
export function MessageMenu(p: {
  item: ChatItem;
  actions: MessageAction[];
  open: boolean;
  onToggle: (open: boolean) => void;
  onAction: (a: MessageAction) => void;
}): JSX.Element {
  const toggle = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const id = `actions-${p.item.id}`;
  useEffect(() => {
    if (p.open) list.current?.querySelector("button")?.focus();
  }, [p.open]);
  const close = () => {
    p.onToggle(false);
    toggle.current?.focus();
  };
  return (
    <div
      class="msg-actions"
      onKeyDown={(e) => {
        if (e.key === "Escape" && p.open) {
          e.preventDefault();
          e.stopPropagation();
          close();
        }
      }}
      onFocusOut={(e) => {
        const next = e.relatedTarget as Node | null;
        if (p.open && !(next && e.currentTarget.contains(next))) p.onToggle(false);
      }}
    >
      <button
        ref={toggle}
        type="button"
        class="link more"
        aria-label="Message actions"
        aria-expanded={p.open}
        aria-controls={p.open ? id : undefined}
        onClick={() => p.onToggle(!p.open)}
      >
        ⋯
      </button>
      {p.open && (
        <ul id={id} ref={list} class="menu-list" aria-label="Message actions">
          {p.actions.map((a) => (
            <li key={a}>
              <button
                type="button"
                class={a === "delete" ? "secondary danger-text" : "secondary"}
                onClick={() => {
                  p.onToggle(false);
                  p.onAction(a);
                }}
              >
                {LABEL[a]}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Deletes a message after a confirmation (a moderator deleting another's may give a reason). */
export function DeleteDialog(
  p: { conversation: ConversationKey; item: ChatItem | null; onClose: () => void },
): JSX.Element {
  const { chat } = useApp();
  const [reason, setReason] = useState("");
  const me = chat.session.user.value?.username;
  const item = p.item;
  const mine = item?.from.username === me;
  const title = mine ? "Delete your message?" : `Delete ${item?.from.alias ?? ""}'s message?`;
  return (
    <Modal open={item !== null} onClose={p.onClose} labelledBy="delete-title">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!item) return;
          chat.deleteMessage(p.conversation, item.id, mine ? "" : reason);
          setReason("");
          p.onClose();
        }}
      >
        <h2 id="delete-title">{title}</h2>
        <blockquote class="quote">{item?.text}</blockquote>
        <p>Its text is erased for everyone; "Message deleted" stays in its place.</p>
        {!mine && (
          <>
            <label for="delete-reason">Reason (kept in the audit log)</label>
            <input
              id="delete-reason"
              value={reason}
              maxLength={REASON_MAX}
              onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
            />
          </>
        )}
        <div class="row">
          <button type="submit" class="danger">Delete message</button>
          <button type="button" class="secondary" onClick={p.onClose}>Keep it</button>
        </div>
      </form>
    </Modal>
  );
}

/** Reports another's salon message to the moderators, with a reason. */
export function ReportDialog(
  p: { conversation: ConversationKey; item: ChatItem | null; onClose: () => void },
): JSX.Element {
  const { chat } = useApp();
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState("");
  const item = p.item;
  const close = () => {
    setProblem("");
    p.onClose();
  };
  return (
    <Modal open={item !== null} onClose={close} labelledBy="report-title">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!item) return;
          if ([...reason].length > REASON_MAX) {
            return setProblem(`The reason must be at most ${REASON_MAX} characters.`);
          }
          chat.report(keyName(p.conversation), item.id, reason);
          setReason("");
          close();
        }}
      >
        <h2 id="report-title">Report {item?.from.alias}'s message</h2>
        <blockquote class="quote">{item?.text}</blockquote>
        <label for="report-reason">Reason</label>
        <textarea
          id="report-reason"
          rows={3}
          value={reason}
          aria-describedby="report-hint"
          aria-invalid={problem ? "true" : undefined}
          onInput={(e) => setReason((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <p id="report-hint" class="muted">
          The moderators see the message, the ones around it and your reason.
        </p>
        {problem && <p class="error" role="alert">{problem}</p>}
        <div class="row">
          <button type="submit">Send report</button>
          <button type="button" class="secondary" onClick={close}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}
