/**
 * A step that fails while a dependency is down (MySQL, say) is logged once
 * per outage, not at every retry: `<step>_failed` (warn) the first time, then
 * nothing until it works again, then `<step>_recovered` (info) once. The
 * periodic checks of several instances retry every second; without this,
 * an outage would write several warnings per second for its whole length.
 *
 * @module
 */

import type { LogFields, Logger } from "./log.ts";

/** Fields a line may carry besides its event and error (the node, say). */
type Extra = Omit<LogFields, "event" | "error">;

/** The failing steps of one part, each logged once per outage. */
export class OutageLog {
  readonly #log: Logger;
  readonly #failing = new Set<string>();

  /** Logs through `log`. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** `step` failed: `<step>_failed` with `message` and the error, unless it is failing already. */
  failed(step: string, message: string, error: unknown, extra: Extra = {}): void {
    if (this.#failing.has(step)) return;
    this.#failing.add(step);
    this.#log.warn(`${message} (logged once until it works again)`, {
      ...extra,
      event: `${step}_failed`,
      error,
    });
  }

  /** `step` worked: `<step>_recovered` once, if it was failing. */
  worked(step: string, message: string, extra: Extra = {}): void {
    if (!this.#failing.delete(step)) return;
    this.#log.info(message, { ...extra, event: `${step}_recovered` });
  }
}
