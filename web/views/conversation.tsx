/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The open conversation: its header (name, counts, leave), the Join /
 * Request to join panel for a salon one is not in, the messages, who is
 * typing, and the composer (./composer.tsx).
 *
 * @module
 */

import type { JSX } from "preact";
import { type ConversationKey, keyName } from "../core/keys.ts";
import { useApp } from "./app_state.ts";
import { Composer } from "./composer.tsx";
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
