/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The moderator's mute and slow-mode controls (PROTOCOL 5.4): the Mute
 * dialog (minutes, in one salon or everywhere, reason), the Unmute dialog
 * (which of the mutes in force), and the slow-mode form (a salon, 0-3600 seconds).
 *
 * @module
 */

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { AdminUser } from "../core/admin_api.ts";
import { localTime } from "../core/api.ts";
import {
  type ModerationTools,
  MUTE_MINUTES_DEFAULT,
  MUTE_MINUTES_MAX,
  mutesOf,
  SLOW_MODE_MAX,
} from "../core/moderation_tools.ts";
import { useApp } from "./app_state.ts";
import { Modal } from "./dialogs.tsx";

/** The "everywhere" choice of a salon select. */
const EVERYWHERE = "";

/** A select of the salons, with "Everywhere" first. */
function WhereSelect(p: { id: string; value: string; onChange: (v: string) => void }) {
  const { chat } = useApp();
  return (
    <>
      <label for={p.id}>Where</label>
      <select
        id={p.id}
        value={p.value}
        onChange={(e) => p.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value={EVERYWHERE}>Everywhere (salons and direct messages)</option>
        {chat.salons.salons.value.map((s) => (
          <option key={s.name} value={s.name}>In {s.name} only</option>
        ))}
      </select>
    </>
  );
}

/** Mutes a user: they stay connected and read, but cannot write there until the end. */
export function MuteDialog(
  p: { tools: ModerationTools; user: AdminUser | null; onClose: () => void },
): JSX.Element {
  const [minutes, setMinutes] = useState(String(MUTE_MINUTES_DEFAULT));
  const [where, setWhere] = useState(EVERYWHERE);
  const [reason, setReason] = useState("");
  const name = p.user?.username ?? "";
  const problem = p.tools.outcome.value;
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await p.tools.mute(name, minutes, where || undefined, reason);
    if (out.ok) {
      setReason("");
      p.onClose();
    }
  };
  return (
    <Modal open={p.user !== null} onClose={p.onClose} labelledBy="mute-title">
      <form onSubmit={submit} noValidate>
        <h2 id="mute-title">Mute {name}</h2>
        <p>{name} stays connected and reads, but cannot write there until the mute ends.</p>
        <label for="mute-minutes">Minutes</label>
        <input
          id="mute-minutes"
          inputMode="decimal"
          value={minutes}
          aria-describedby="mute-minutes-hint"
          aria-invalid={problem?.field === "minutes" ? "true" : undefined}
          onInput={(e) => setMinutes((e.currentTarget as HTMLInputElement).value)}
        />
        <p id="mute-minutes-hint" class="muted">At most {MUTE_MINUTES_MAX} (30 days).</p>
        <WhereSelect id="mute-where" value={where} onChange={setWhere} />
        <label for="mute-reason">Reason</label>
        <input
          id="mute-reason"
          value={reason}
          aria-invalid={problem?.field === "reason" ? "true" : undefined}
          onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
        />
        {problem && !problem.ok && <p class="error" role="alert">{problem.message}</p>}
        <div class="row">
          <button type="submit">Mute {name}</button>
          <button type="button" class="secondary" onClick={p.onClose}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}

/** Ends one of a user's mutes in force (the one everywhere, or the one of a salon). */
export function UnmuteDialog(
  p: { tools: ModerationTools; user: AdminUser | null; onClose: () => void },
): JSX.Element {
  const inForce = p.user ? mutesOf(p.user) : [];
  const [picked, setPicked] = useState<string | null>(null);
  const where = picked ?? inForce[0]?.salon ?? EVERYWHERE;
  const name = p.user?.username ?? "";
  const problem = p.tools.outcome.value;
  const close = () => {
    setPicked(null);
    p.onClose();
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if ((await p.tools.unmute(name, where || undefined)).ok) close();
  };
  return (
    <Modal open={p.user !== null} onClose={close} labelledBy="unmute-title">
      <form onSubmit={submit} noValidate>
        <h2 id="unmute-title">Unmute {name}</h2>
        <label for="unmute-where">Which mute</label>
        <select
          id="unmute-where"
          value={where}
          onChange={(e) => setPicked((e.currentTarget as HTMLSelectElement).value)}
        >
          {inForce.map((m) => (
            <option key={m.salon ?? EVERYWHERE} value={m.salon ?? EVERYWHERE}>
              {m.salon === undefined ? "Everywhere" : `In ${m.salon}`}, until {localTime(m.until)}
            </option>
          ))}
        </select>
        {problem && !problem.ok && <p class="error" role="alert">{problem.message}</p>}
        <div class="row">
          <button type="submit">Unmute {name}</button>
          <button type="button" class="secondary" onClick={close}>Cancel</button>
        </div>
      </form>
    </Modal>
  );
}

/** Slow mode per salon: the current value and a form to change it. */
export function SlowModeForm(p: { tools: ModerationTools }): JSX.Element {
  const { chat } = useApp();
  const salons = chat.salons.salons.value;
  const [salon, setSalon] = useState(salons[0]?.name ?? "");
  const [seconds, setSeconds] = useState("30");
  const chosen = salon || salons[0]?.name || "";
  const current = chat.restrictions.slowMode.value.get(chosen) ?? 0;
  return (
    <form
      class="mod-form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const n = Number(seconds.trim());
        if ((await p.tools.slowMode(chosen, seconds)).ok) {
          chat.restrictions.setSlowMode(chosen, n);
        }
      }}
    >
      <h3 class="section-title">Slow mode</h3>
      <label for="slow-salon">Salon</label>
      <select
        id="slow-salon"
        value={chosen}
        onChange={(e) => setSalon((e.currentTarget as HTMLSelectElement).value)}
      >
        {salons.map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
      </select>
      <p class="muted">
        Now in {chosen}: {current > 0 ? `one message every ${current} s per member` : "off"}.
      </p>
      <label for="slow-seconds">Seconds between messages</label>
      <input
        id="slow-seconds"
        inputMode="numeric"
        value={seconds}
        aria-describedby="slow-seconds-hint"
        onInput={(e) => setSeconds((e.currentTarget as HTMLInputElement).value)}
      />
      <p id="slow-seconds-hint" class="muted">
        0 turns it off; at most {SLOW_MODE_MAX}. Moderators and admins are not slowed.
      </p>
      <button type="submit">Set slow mode</button>
    </form>
  );
}
