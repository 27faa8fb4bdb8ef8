/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What concerns the whole session: the connection state (role="status"),
 * kicked / banned / shutdown (role="alert"), and announcements.
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { localTime } from "../core/api.ts";
import type { ConnectionState } from "../core/connection.ts";
import { useApp } from "./app_state.ts";

/** A re-render every second while `on`; returns the time (epoch ms). */
export function useTick(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [on]);
  return now;
}

function describe(s: ConnectionState, now: number): string {
  switch (s.kind) {
    case "idle":
      return "Not connected";
    case "connecting":
      return s.attempt === 0 ? "Connecting…" : "Reconnecting…";
    case "open":
      return "Connected";
    case "waiting":
      return `Connection lost; reconnecting in ${
        Math.max(1, Math.ceil((s.retryAt - now) / 1000))
      } s`;
    case "stopped":
      return s.reason === "logged_out" ? "Logged out" : "Disconnected";
  }
}

/** The connection state, and a way to retry at once. */
export function ConnectionStatus(): JSX.Element {
  const { chat } = useApp();
  const s = chat.session.connection.value;
  const now = useTick(s.kind === "waiting");
  return (
    <div class={`connection ${s.kind}`}>
      <span role="status">{describe(s, now)}</span>
      {s.kind === "waiting" && (
        <button
          type="button"
          class="link"
          onClick={() => chat.connection.retryNow()}
        >
          Retry now
        </button>
      )}
    </div>
  );
}

/** Kicked, banned, replaced, and the shutdown countdown. */
export function Alerts(): JSX.Element {
  const app = useApp();
  const { chat } = app;
  const s = chat.session.connection.value;
  const countdown = chat.session.countdown.value;
  const now = useTick(countdown !== null);
  const left = countdown
    ? Math.max(0, countdown.seconds - Math.floor((now - countdown.told) / 1000))
    : 0;
  return (
    <div class="alerts">
      {s.kind === "stopped" && s.reason === "kicked" && (
        <div role="alert" class="banner danger">
          <p>
            You were kicked{s.until ? ` until ${localTime(s.until)}` : ""}.
            {s.message ? ` Reason: ${s.message}` : ""}
          </p>
          <button type="button" onClick={() => void app.logout()}>Log out</button>
        </div>
      )}
      {s.kind === "stopped" && s.reason === "banned" && (
        <div role="alert" class="banner danger">
          <p>This account is banned.{s.message ? ` Reason: ${s.message}` : ""}</p>
          <button type="button" onClick={() => void app.logout()}>Log out</button>
        </div>
      )}
      {s.kind === "stopped" && s.reason === "replaced" && (
        <div role="alert" class="banner">
          <p>This tab was disconnected because the account opened too many sessions.</p>
          <button type="button" onClick={() => chat.connection.start()}>Reconnect</button>
        </div>
      )}
      {countdown && s.kind !== "stopped" && (
        <div role="alert" class="banner warning">
          <p>The server is shutting down in {left} s. It will reconnect you when it is back.</p>
        </div>
      )}
    </div>
  );
}

/** Announcements from moderators (`notice`). */
export function Announcements(): JSX.Element {
  const { chat } = useApp();
  const list = chat.session.announcements.value;
  return (
    <section aria-label="Announcements" aria-live="polite" class="announcements">
      {list.slice(-3).map((a) => (
        <p key={a.at + a.text} class="banner info">
          <strong>Announcement</strong>{" "}
          <time dateTime={a.at} title={new Date(a.at).toLocaleString()}>
            {new Date(a.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
          </time>: {a.text}
        </p>
      ))}
    </section>
  );
}
