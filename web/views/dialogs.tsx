/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Dialogs: jump to a conversation (Ctrl+K) and the account (change
 * password, log out). Native `<dialog>` opened modal: Escape closes it and
 * focus stays inside.
 *
 * @module
 */

import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiProblem, changePassword } from "../core/api.ts";
import { directKey, salonKey } from "../core/keys.ts";
import { useApp } from "./app_state.ts";
import { Field } from "./field.tsx";
import { hrefOf } from "./sidebar.tsx";

/** A modal dialog shown while `open`; `onClose` when it closes (Escape included). */
export function Modal(
  p: {
    open: boolean;
    onClose: () => void;
    labelledBy: string;
    children: JSX.Element | JSX.Element[];
  },
) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (p.open && !d.open) d.showModal();
    if (!p.open && d.open) d.close();
  }, [p.open]);
  return (
    <dialog ref={ref} aria-labelledby={p.labelledBy} onClose={p.onClose}>
      {p.open && p.children}
    </dialog>
  );
}

/** Ctrl+K: type part of a salon's or person's name, Enter opens it. */
export function JumpDialog(p: { open: boolean; onClose: () => void }): JSX.Element {
  const { chat } = useApp();
  const [q, setQ] = useState("");
  const all = [
    ...chat.salons.salons.value.map((s) => ({ key: salonKey(s.name), label: s.name })),
    ...chat.salons.directs.value.map((d) => ({
      key: directKey(d.with.username),
      label: d.with.alias,
    })),
  ];
  const found = all.filter((x) => x.label.toLowerCase().includes(q.toLowerCase())).slice(0, 8);
  const go = (key: string) => {
    location.hash = hrefOf(key);
    setQ("");
    p.onClose();
  };
  return (
    <Modal open={p.open} onClose={p.onClose} labelledBy="jump-title">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (found[0]) go(found[0].key);
        }}
      >
        <h2 id="jump-title">Jump to a conversation</h2>
        <label for="jump-input">Salon or person</label>
        <input
          id="jump-input"
          value={q}
          autoFocus
          onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)}
        />
        <ul class="jump-list">
          {found.map((x) => (
            <li key={x.key}>
              <a href={hrefOf(x.key)} onClick={() => p.onClose()}>{x.label}</a>
            </li>
          ))}
        </ul>
        <button type="button" class="secondary" onClick={p.onClose}>Close</button>
      </form>
    </Modal>
  );
}

/** The account: change password, log out. */
export function AccountDialog(p: { open: boolean; onClose: () => void }): JSX.Element {
  const app = useApp();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = app.chat.token;
    if (!token) return;
    const r = await changePassword(app.fetch, token, current, next);
    if (!r.ok) {
      const field = r.problem.code === "bad_credentials" ? "current" : r.problem.field;
      return setProblem({ ...r.problem, field });
    }
    setDone(true);
    // Every token was revoked: log in again with the new password.
    app.loginNote.value = "Password changed. Log in with the new password.";
    await app.logout();
  };
  const user = app.chat.session.user.value;
  return (
    <Modal open={p.open} onClose={p.onClose} labelledBy="account-title">
      <h2 id="account-title">Account</h2>
      <p>{user ? `${user.alias} (${user.username}, ${user.role})` : ""}</p>
      <form onSubmit={submit} noValidate>
        <h3>Change password</h3>
        <Field
          id="pw-current"
          label="Current password"
          type="password"
          value={current}
          onInput={setCurrent}
          autocomplete="current-password"
          error={problem?.field === "current" ? problem.message : undefined}
        />
        <Field
          id="pw-next"
          label="New password"
          type="password"
          value={next}
          onInput={setNext}
          autocomplete="new-password"
          hint="At least 8 characters."
          error={problem?.field === "next" ? problem.message : undefined}
        />
        {problem && problem.field !== "current" && problem.field !== "next" && (
          <p class="error">{problem.message}</p>
        )}
        {done && <p>Password changed.</p>}
        <button type="submit">Change password</button>
      </form>
      <div class="row">
        <button type="button" class="secondary" onClick={() => void app.logout()}>Log out</button>
        <button type="button" class="secondary" onClick={p.onClose}>Close</button>
      </div>
    </Modal>
  );
}
