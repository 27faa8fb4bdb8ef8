/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * A labelled input with its error shown next to it (and tied to it with
 * aria-describedby, so a screen reader reads it too).
 *
 * @module
 */

import type { JSX } from "preact";

/** Props of {@link Field}. */
export interface FieldProps {
  /** Element id. */
  id: string;
  /** Visible label (the accessible name). */
  label: string;
  /** Input type. */
  type?: "text" | "password";
  /** Value. */
  value: string;
  /** Change. */
  onInput: (v: string) => void;
  /** The error for this field, if any. */
  error?: string;
  /** Autocomplete hint. */
  autocomplete?: string;
  /** A hint under the field. */
  hint?: string;
}

/** A labelled input with its error. */
export function Field(p: FieldProps): JSX.Element {
  const described = [p.error ? `${p.id}-error` : "", p.hint ? `${p.id}-hint` : ""].filter(Boolean)
    .join(" ");
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input
        {...(p.type === "password" ? { type: "password" as const } : { type: "text" as const })}
        id={p.id}
        name={p.id}
        value={p.value}
        autocomplete={p.autocomplete}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={described || undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
        required
      />
      {p.hint && <p class="hint" id={`${p.id}-hint`}>{p.hint}</p>}
      {p.error && <p class="error" id={`${p.id}-error`}>{p.error}</p>}
    </div>
  );
}
