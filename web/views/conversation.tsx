/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The open conversation: its header (name, counts, leave), the Join /
 * Request to join panel for a salon one is not in, the messages, who is
 * typing, and the composer.
 *
 * @module
 */

import type { JSX } from "preact";
import { useRef } from "preact/hooks";
import { type ConversationKey, keyName } from "../core/keys.ts";
import { useApp } from "./app_state.ts";
import { MessageList } from "./message_list.tsx";

/** The open conversation. */
export function Conversation(p: { conversation: ConversationKey }): JSX.Element {
  const { chat } = useApp();
  const key = p.conversation;
  const name = keyName(key);
  const isSalon = key.startsWith("s:");
  const salon = isSalon ? chat.salons.get(name) : undefined;
  const direct = isSalon
    ? undefined
    : chat.salons.directs.value.find((d) => d.with.username === name);
  const title = isSalon ? name : direct?.with.alias ?? name;
  const problem = chat.composer.problems.value.get(key);
  if (isSalon && !salon) {
    return (
      <section class="conversation" aria-labelledby="conv-title">
        <h2 id="conv-title">{name}</h2>
        <p>There is no salon named {name}.</p>
      </section>
    );
  }
  return (
    <section class="conversation" aria-labelledby="conv-title">
      <header class="conv-header">
        <h2 id="conv-title">{title}</h2>
        {salon && (
          <p class="muted counts">
            {salon.online} online · {salon.members} {salon.members === 1 ? "member" : "members"}
          </p>
        )}
        {salon && (salon.member || salon.pending) && salon.policy !== "auto" && (
          <button
            type="button"
            class="secondary"
            onClick={() => chat.leave(name)}
          >
            {salon.member ? "Leave salon" : "Withdraw request"}
          </button>
        )}
      </header>
      {salon && !salon.member
        ? (
          <div class="join-panel">
            {salon.pending ? <p>Your request to join {name} is waiting for a moderator.</p> : (
              <>
                <p>
                  {salon.policy === "open"
                    ? `You are not a member of ${name}. Anyone may join.`
                    : `${name} needs a moderator's approval to join.`}
                </p>
                <button type="button" onClick={() => chat.join(name)}>
                  {salon.policy === "open" ? "Join" : "Request to join"}
                </button>
              </>
            )}
            {problem && <p class="error" aria-live="polite">{problem.message}</p>}
          </div>
        )
        : (
          <>
            <MessageList conversation={key} />
            <Typing conversation={key} />
            <Composer conversation={key} />
          </>
        )}
    </section>
  );
}

function Typing(p: { conversation: ConversationKey }): JSX.Element {
  const { chat } = useApp();
  const list = chat.presence.typing.value.get(p.conversation) ?? [];
  const names = list.map((t) => t.user.alias);
  const text = names.length === 0
    ? ""
    : names.length === 1
    ? `${names[0]} is typing…`
    : names.length === 2
    ? `${names[0]} and ${names[1]} are typing…`
    : "Several people are typing…";
  return <p class="typing" aria-live="polite">{text}</p>;
}

/** Characters left shown from this close to the limit. */
const SHOW_LEFT_BELOW = 200;

function Composer(p: { conversation: ConversationKey }): JSX.Element {
  const { chat } = useApp();
  const key = p.conversation;
  const draft = chat.composer.drafts.value.get(key) ?? "";
  const problem = chat.composer.problems.value.get(key);
  const max = chat.session.limits.value.maxTextLength;
  const left = max - [...draft].length;
  const area = useRef<HTMLTextAreaElement>(null);
  const send = () => {
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
    }
  };
  const described = [
    "composer-help",
    problem ? "composer-problem" : "",
    left < SHOW_LEFT_BELOW ? "composer-left" : "",
  ]
    .filter(Boolean).join(" ");
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea
        id="composer-input"
        ref={area}
        rows={2}
        value={draft}
        placeholder={`Message ${key.startsWith("s:") ? keyName(key) : ""}`.trim()}
        aria-describedby={described}
        aria-invalid={left < 0 ? "true" : undefined}
        onInput={(e) => {
          chat.composer.setDraft(key, (e.currentTarget as HTMLTextAreaElement).value);
          chat.typing(key);
        }}
        onKeyDown={onKey}
      />
      <button type="submit" disabled={left < 0 || !draft.trim()}>Send</button>
      <p id="composer-help" class="visually-hidden">Enter sends, Shift+Enter starts a new line.</p>
      {left < SHOW_LEFT_BELOW && (
        <p id="composer-left" class={left < 0 ? "left error" : "left"}>
          {left < 0 ? `${-left} characters over the limit of ${max}` : `${left} characters left`}
        </p>
      )}
      {problem && <p id="composer-problem" class="error" aria-live="polite">{problem.message}</p>}
    </form>
  );
}
