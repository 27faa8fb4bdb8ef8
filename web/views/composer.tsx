/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The composer: the message input and Send, the characters left, the inline
 * problem, and what PROTOCOL 5.4 adds: the muted banner (time left, live)
 * with the input disabled, the slow-mode line (seconds before one may send
 * again, Send disabled until then), and editing one's own message (Up arrow
 * in an empty input, or "Edit" in a message's menu; Enter saves, Escape
 * cancels).
 *
 * @module
 */

import type { JSX } from "preact";
import { useRef } from "preact/hooks";
import { localTime } from "../core/api.ts";
import { type ConversationKey, keyName } from "../core/keys.ts";
import type { Mute } from "../core/stores/restrictions.ts";
import { useApp } from "./app_state.ts";
import { useTick } from "./banners.tsx";

/** Characters left shown from this close to the limit. */
const SHOW_LEFT_BELOW = 200;

/** A duration in words: "2 d 3 h", "1 h 5 min", "9 min 32 s", "45 s". */
export function timeLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${sec} s`;
  return `${sec} s`;
}

/** The muted banner: the sentence is a status (said once), the countdown beside it is not. */
function MuteBanner(p: { mute: Mute; now: number }): JSX.Element {
  const { mute } = p;
  const where = mute.salon === undefined ? "everywhere" : `in ${mute.salon}`;
  return (
    <div class="banner warning mute-banner" id="composer-muted">
      <p role="status">
        You are muted {where} until {localTime(mute.until)}: you can read but not write.
        {mute.reason ? ` Reason: ${mute.reason}` : ""}
      </p>
      <p class="countdown">{timeLeft(Date.parse(mute.until) - p.now)} left</p>
    </div>
  );
}

/** The message input of `conversation`. */
export function Composer(p: { conversation: ConversationKey }): JSX.Element {
  const { chat } = useApp();
  const key = p.conversation;
  const draft = chat.composer.drafts.value.get(key) ?? "";
  const problem = chat.composer.problems.value.get(key);
  const editing = chat.composer.editing.value.get(key);
  const max = chat.session.limits.value.maxTextLength;
  const left = max - [...draft].length;
  const area = useRef<HTMLTextAreaElement>(null);
  // Read the restrictions first (the signals), then tick while one is in force.
  const mutes = chat.restrictions.mutes.value;
  const slowSeconds = key.startsWith("s:")
    ? chat.restrictions.slowMode.value.get(keyName(key)) ?? 0
    : 0;
  void chat.restrictions.lastSaid.value;
  void chat.restrictions.retryAt.value;
  const now = useTick(mutes.size > 0 || chat.slowModeWait(key) > 0);
  const mute = chat.restrictions.muteOf(key, chat.clock.now());
  const wait = chat.slowModeWait(key);
  const member = chat.session.user.value?.role === "member";

  const send = () => {
    if (editing) {
      const refused = chat.saveEdit(key);
      if (refused) chat.composer.setProblem(key, { code: "local", message: refused });
      area.current?.focus();
      return;
    }
    const text = draft;
    if (!text.trim()) return;
    const refused = chat.say(key, text);
    if (refused) chat.composer.setProblem(key, { code: "local", message: refused });
    else chat.composer.setDraft(key, "");
    area.current?.focus();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === "Escape" && editing) {
      e.preventDefault();
      chat.cancelEdit(key);
    } else if (e.key === "ArrowUp" && !draft && !editing && !e.altKey) {
      const id = chat.lastOwn(key);
      if (id !== null && chat.startEdit(key, id)) e.preventDefault();
    }
  };
  const described = [
    "composer-help",
    mute ? "composer-muted" : "",
    editing ? "composer-editing" : "",
    slowSeconds > 0 && member ? "composer-slow" : "",
    problem ? "composer-problem" : "",
    left < SHOW_LEFT_BELOW ? "composer-left" : "",
  ]
    .filter(Boolean).join(" ");
  return (
    <form
      class={`composer${editing ? " editing" : ""}`}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {mute && <MuteBanner mute={mute} now={now} />}
      {editing && (
        <p id="composer-editing" class="edit-bar">
          <strong>Editing your message.</strong> Enter saves, Escape cancels.{" "}
          <button type="button" class="link" onClick={() => chat.cancelEdit(key)}>
            Cancel edit
          </button>
        </p>
      )}
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea
        id="composer-input"
        ref={area}
        rows={2}
        value={draft}
        disabled={mute !== null}
        placeholder={mute
          ? "You are muted"
          : `Message ${key.startsWith("s:") ? keyName(key) : ""}`.trim()}
        aria-describedby={described}
        aria-invalid={left < 0 ? "true" : undefined}
        onInput={(e) => {
          chat.composer.setDraft(key, (e.currentTarget as HTMLTextAreaElement).value);
          if (!editing) chat.typing(key);
        }}
        onKeyDown={onKey}
      />
      <button
        type="submit"
        disabled={mute !== null || left < 0 || !draft.trim() || (wait > 0 && !editing)}
      >
        {editing ? "Save" : "Send"}
      </button>
      <p id="composer-help" class="visually-hidden">
        Enter sends, Shift+Enter starts a new line, Up arrow in an empty message edits your last
        one.
      </p>
      {slowSeconds > 0 && member && (
        <p id="composer-slow" class={wait > 0 ? "slow waiting" : "slow"}>
          Slow mode: one message every {slowSeconds} s.{" "}
          {wait > 0 ? `You may send again in ${Math.ceil(wait / 1000)} s.` : "You may send now."}
        </p>
      )}
      {left < SHOW_LEFT_BELOW && (
        <p id="composer-left" class={left < 0 ? "left error" : "left"}>
          {left < 0 ? `${-left} characters over the limit of ${max}` : `${left} characters left`}
        </p>
      )}
      {problem && (
        <p
          id="composer-problem"
          class={problem.tone === "info" ? "note" : "error"}
          aria-live="polite"
        >
          {problem.message}
        </p>
      )}
    </form>
  );
}
