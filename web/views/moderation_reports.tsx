/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The live report queue (moderators, PROTOCOL 5.4): each open report with
 * who reported whom, the reason and the message; "Show in context" shows the
 * messages around it; one click deletes the message, mutes its author in
 * that salon for 10 minutes or kicks them (5 minutes); Resolve closes the
 * report with an optional note.
 *
 * @module
 */

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { localTime } from "../core/api.ts";
import { salonKey } from "../core/keys.ts";
import { type ModerationTools, MUTE_MINUTES_DEFAULT } from "../core/moderation_tools.ts";
import type { KeptReport } from "../core/stores/reports.ts";
import { useApp } from "./app_state.ts";

/** The queue. */
export function ReportQueue(p: { tools: ModerationTools }): JSX.Element {
  const { chat } = useApp();
  const open = chat.reports.open.value;
  const outcome = chat.reports.outcome.value;
  return (
    <div class="reports">
      <h3 class="section-title" id="reports-title">
        Reports{open.length ? ` (${open.length})` : ""}
      </h3>
      {open.length === 0
        ? <p class="muted">No open report.</p>
        : (
          <ul aria-labelledby="reports-title" class="report-list">
            {open.map((r) => <ReportEntry key={r.id} report={r} tools={p.tools} />)}
          </ul>
        )}
      <p class={outcome?.ok === false ? "error" : "muted"} aria-live="polite">
        {outcome?.message ?? ""}
      </p>
    </div>
  );
}

function Context(p: { report: KeptReport }): JSX.Element | null {
  const { chat } = useApp();
  const c = chat.reports.contexts.value.get(p.report.id);
  if (!c) return null;
  if (c.state === "loading") return <p class="muted">Loading the context…</p>;
  if (c.state === "failed") return <p class="error">{c.message}</p>;
  return (
    <ol class="report-context" aria-label={`Context of report ${p.report.id}`}>
      {c.items.map((i) => (
        <li key={i.id} class={i.id === p.report.message.id ? "reported" : undefined}>
          {i.deleted ? <em>Message deleted</em> : (
            <>
              <strong>{i.from.alias}</strong>{" "}
              <time class="muted" dateTime={i.at} title={localTime(i.at)}>
                {new Date(i.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
              </time>: {i.text}
            </>
          )}
          {i.id === p.report.message.id && <span class="tag">reported</span>}
        </li>
      ))}
    </ol>
  );
}

function ReportEntry(p: { report: KeptReport; tools: ModerationTools }): JSX.Element {
  const { chat } = useApp();
  const r = p.report;
  const [note, setNote] = useState("");
  const shown = chat.reports.contexts.value.has(r.id);
  const head = `report-${r.id}`;
  const author = r.message.from.username;
  const because = `Report ${r.id}`;
  return (
    <li class="request report" aria-labelledby={head}>
      <p id={head}>
        <strong>{r.by.alias}</strong> reported <strong>{r.message.from.alias}</strong> in{" "}
        <strong>{r.salon}</strong> <span class="muted">({localTime(r.at)}, report {r.id})</span>
      </p>
      <p>Reason: {r.reason ? r.reason : <span class="muted">none given</span>}</p>
      <blockquote class="quote">
        {r.messageDeleted ? <em>Message deleted</em> : r.message.text}
      </blockquote>
      <button
        type="button"
        class="link"
        aria-expanded={shown}
        onClick={() => shown ? chat.reports.setContext(r.id, null) : chat.showContext(r.id)}
      >
        {shown ? "Hide context" : "Show in context"}
      </button>
      {shown && <Context report={r} />}
      <span class="actions">
        {!r.messageDeleted && (
          <button
            type="button"
            class="danger"
            aria-describedby={head}
            onClick={() => chat.deleteMessage(salonKey(r.salon), r.message.id, because, r.id)}
          >
            Delete message
          </button>
        )}
        <button
          type="button"
          class="secondary"
          aria-describedby={head}
          onClick={() => void p.tools.mute(author, String(MUTE_MINUTES_DEFAULT), r.salon, because)}
        >
          Mute author {MUTE_MINUTES_DEFAULT} min
        </button>
        <button
          type="button"
          class="secondary"
          aria-describedby={head}
          onClick={() => void p.tools.kick(author, "", because)}
        >
          Kick author
        </button>
      </span>
      <form
        class="resolve"
        onSubmit={(e) => {
          e.preventDefault();
          if (chat.resolveReport(r.id, note)) setNote("");
        }}
      >
        <label for={`${head}-note`}>Note</label>
        <input
          id={`${head}-note`}
          value={note}
          onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" aria-describedby={head}>Resolve</button>
      </form>
    </li>
  );
}
