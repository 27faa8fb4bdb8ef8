/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The sidebar: the salons (a navigation region "Salons" whose entries are
 * named after the salon first), the direct conversations, and, for
 * moderators, the join requests (region "Moderation").
 *
 * @module
 */

import type { JSX } from "preact";
import { salonKey } from "../core/keys.ts";
import type { SalonState } from "../core/stores/salons.ts";
import { useApp } from "./app_state.ts";
import { ModerationPanel } from "./moderation_panel.tsx";
import { DirectList } from "./directs.tsx";

/** The hash of a conversation's address. */
export function hrefOf(key: string): string {
  return key.startsWith("s:")
    ? `#/s/${encodeURIComponent(key.slice(2))}`
    : `#/d/${encodeURIComponent(key.slice(2))}`;
}

function state(s: SalonState): string {
  if (s.member) return "";
  return s.pending ? "request pending" : "not a member";
}

function Badges(p: { unread: number; mentions: number }): JSX.Element | null {
  if (!p.unread && !p.mentions) return null;
  return (
    <span class="badges">
      {p.mentions > 0 && (
        <span class="badge mention">
          {p.mentions} {p.mentions === 1 ? "mention" : "mentions"}
        </span>
      )}
      {p.unread > 0 && <span class="badge">{p.unread >= 1000 ? "999+" : p.unread} unread</span>}
    </span>
  );
}

/** The list of salons and conversations. */
export function Sidebar(): JSX.Element {
  const { chat } = useApp();
  const active = chat.salons.active.value;
  return (
    <div class="sidebar-inner">
      <nav aria-label="Salons">
        <h2 class="section-title">Salons</h2>
        <ul>
          {chat.salons.salons.value.map((s) => {
            const key = salonKey(s.name);
            const note = state(s);
            return (
              <li key={s.name}>
                <a
                  href={hrefOf(key)}
                  class={`entry${active === key ? " active" : ""}${s.member ? "" : " outside"}`}
                  aria-current={active === key ? "page" : undefined}
                >
                  <span class="name">{s.name}</span> {note && <span class="state">({note})</span>}
                  {" "}
                  {s.member && <Badges unread={s.unread} mentions={s.mentions} />}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <DirectList />
      <ModerationPanel />
    </div>
  );
}
