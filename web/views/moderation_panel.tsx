/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The moderator panel (region "Moderation", moderators and admins only):
 * join requests with Accept / Reject, the report queue
 * (./moderation_reports.tsx), users found by search with Kick, Ban (a
 * confirmation dialog), Unban, Mute and Unmute (./moderation_mute.tsx),
 * roles for admins, slow mode per salon, an announcement, and
 * for admins the shutdown countdown and its cancel. Dialogs are native modal
 * `<dialog>`s: Escape closes them.
 *
 * @module
 */

import type { JSX } from "preact";
import { useMemo, useState } from "preact/hooks";
import type { AdminUser, Role } from "../core/admin_api.ts";
import { ModerationTools, muteOf, sanctionOf } from "../core/moderation_tools.ts";
import { useApp } from "./app_state.ts";
import { Modal } from "./dialogs.tsx";
import { MuteDialog, SlowModeForm, UnmuteDialog } from "./moderation_mute.tsx";
import { ReportQueue } from "./moderation_reports.tsx";

/** A titled modal dialog ({@link Modal}) shown while `open`; Escape (or a button) closes it. */
function ModDialog(
  p: { open: boolean; onClose: () => void; title: string; id: string; children: JSX.Element },
): JSX.Element {
  return (
    <Modal open={p.open} onClose={p.onClose} labelledBy={`${p.id}-title`}>
      <div>
        <h2 id={`${p.id}-title`}>{p.title}</h2>
        {p.children}
      </div>
    </Modal>
  );
}

type Target = { user: AdminUser; action: "kick" | "ban" | "mute" | "unmute" } | null;

/** The panel; null for members. */
export function ModerationPanel(): JSX.Element | null {
  const app = useApp();
  const { chat } = app;
  const role = chat.session.user.value?.role;
  const tools = useMemo(() => new ModerationTools(app.fetch, () => app.chat.token), [app]);
  const [target, setTarget] = useState<Target>(null);
  if (!role || role === "member") return null;
  const outcome = tools.outcome.value;
  return (
    <section aria-labelledby="moderation-title" class="moderation">
      <h2 id="moderation-title" class="section-title">Moderation</h2>
      <JoinRequests />
      <ReportQueue tools={tools} />
      <Users tools={tools} admin={role === "admin"} onAct={setTarget} />
      <SlowModeForm tools={tools} />
      <Announce tools={tools} />
      {role === "admin" && <Shutdown tools={tools} />}
      <p class={outcome?.ok === false ? "error" : "muted"} aria-live="polite">
        {outcome?.message ?? ""}
      </p>
      <KickDialog
        tools={tools}
        user={target?.action === "kick" ? target.user : null}
        onClose={() => setTarget(null)}
      />
      <BanDialog
        tools={tools}
        user={target?.action === "ban" ? target.user : null}
        onClose={() => setTarget(null)}
      />
      <MuteDialog
        tools={tools}
        user={target?.action === "mute" ? target.user : null}
        onClose={() => setTarget(null)}
      />
      <UnmuteDialog
        tools={tools}
        user={target?.action === "unmute" ? target.user : null}
        onClose={() => setTarget(null)}
      />
    </section>
  );
}

function JoinRequests(): JSX.Element {
  const { chat } = useApp();
  const requests = chat.moderation.requests.value;
  return (
    <div>
      <h3 class="section-title">Join requests</h3>
      {requests.length === 0 ? <p class="muted">No join request waiting.</p> : (
        <ul>
          {requests.map((r) => (
            <li key={`${r.salon}/${r.username}`} class="request">
              <span id={`req-${r.salon}-${r.username}`}>
                <strong>{r.alias}</strong> ({r.username}) asks to join <strong>{r.salon}</strong>
              </span>
              <span class="actions">
                <button
                  type="button"
                  aria-describedby={`req-${r.salon}-${r.username}`}
                  onClick={() => chat.decide(r.salon, r.username, true)}
                >
                  Accept
                </button>
                <button
                  type="button"
                  class="secondary"
                  aria-describedby={`req-${r.salon}-${r.username}`}
                  onClick={() => chat.decide(r.salon, r.username, false)}
                >
                  Reject
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Users(
  p: { tools: ModerationTools; admin: boolean; onAct: (t: Target) => void },
): JSX.Element {
  const { chat } = useApp();
  const { tools } = p;
  const q = tools.query.value;
  const me = chat.session.user.value?.username;
  return (
    <div>
      <h3 class="section-title">Users</h3>
      <label for="mod-search">Search users</label>
      <input
        id="mod-search"
        type="search"
        value={q}
        placeholder="username or alias"
        onInput={(e) => {
          const v = (e.currentTarget as HTMLInputElement).value;
          if (v.trim() && !tools.query.value.trim()) void tools.load();
          tools.query.value = v;
        }}
      />
      {q.trim() && (
        <ul class="mod-users" aria-label="Users found">
          {tools.found.value.length === 0 && !tools.loading.value && (
            <li class="muted">No user matches.</li>
          )}
          {tools.found.value.map((u) => {
            const sanction = sanctionOf(u);
            const muted = muteOf(u);
            const id = `mod-user-${u.username}`;
            return (
              <li key={u.username} class="request">
                <span id={id}>
                  <strong>{u.alias}</strong> ({u.username}) · {u.role} · {u.status}
                  {sanction && <strong>· {sanction}</strong>}
                  {muted && <strong>· {muted}</strong>}
                </span>
                {u.username !== me && (
                  <span class="actions">
                    <button type="button" onClick={() => p.onAct({ user: u, action: "kick" })}>
                      Kick <span class="visually-hidden">{u.username}</span>
                    </button>
                    <button type="button" onClick={() => p.onAct({ user: u, action: "mute" })}>
                      Mute <span class="visually-hidden">{u.username}</span>
                    </button>
                    {muted && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => p.onAct({ user: u, action: "unmute" })}
                      >
                        Unmute <span class="visually-hidden">{u.username}</span>
                      </button>
                    )}
                    {!u.banned && (
                      <button
                        type="button"
                        onClick={() => p.onAct({ user: u, action: "ban" })}
                      >
                        Ban <span class="visually-hidden">{u.username}</span>
                      </button>
                    )}
                    {sanction && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => void tools.unban(u.username)}
                      >
                        Unban <span class="visually-hidden">{u.username}</span>
                      </button>
                    )}
                    {p.admin && (
                      <span>
                        <label for={`${id}-role`} class="visually-hidden">
                          Role of {u.username}
                        </label>
                        <select
                          id={`${id}-role`}
                          value={u.role}
                          onChange={(e) =>
                            void tools.setRole(
                              u.username,
                              (e.currentTarget as HTMLSelectElement).value as Role,
                            )}
                        >
                          <option value="member">member</option>
                          <option value="moderator">moderator</option>
                          <option value="admin">admin</option>
                        </select>
                      </span>
                    )}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

function KickDialog(
  p: { tools: ModerationTools; user: AdminUser | null; onClose: () => void },
): JSX.Element {
  const [minutes, setMinutes] = useState("5");
  const [reason, setReason] = useState("");
  const name = p.user?.username ?? "";
  const problem = p.tools.outcome.value;
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await p.tools.kick(name, minutes, reason);
    if (out.ok) {
      setReason("");
      p.onClose();
    }
  };
  return (
    <ModDialog open={p.user !== null} onClose={p.onClose} title={`Kick ${name}`} id="kick">
      <form onSubmit={submit} noValidate>
        <label for="kick-minutes">Minutes</label>
        <input
          id="kick-minutes"
          inputMode="decimal"
          value={minutes}
          aria-invalid={problem?.field === "minutes" ? "true" : undefined}
          onInput={(e) => setMinutes((e.currentTarget as HTMLInputElement).value)}
        />
        <label for="kick-reason">Reason</label>
        <input
          id="kick-reason"
          value={reason}
          onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
        />
        {problem && !problem.ok && <p class="error" role="alert">{problem.message}</p>}
        <div class="row">
          <button type="submit">Kick {name}</button>
          <button type="button" class="secondary" onClick={p.onClose}>Cancel</button>
        </div>
      </form>
    </ModDialog>
  );
}

function BanDialog(
  p: { tools: ModerationTools; user: AdminUser | null; onClose: () => void },
): JSX.Element {
  const [reason, setReason] = useState("");
  const [purge, setPurge] = useState(false);
  const name = p.user?.username ?? "";
  const problem = p.tools.outcome.value;
  const submit = async (e: Event) => {
    e.preventDefault();
    const out = await p.tools.ban(name, reason, purge);
    if (out.ok) {
      setReason("");
      setPurge(false);
      p.onClose();
    }
  };
  return (
    <ModDialog open={p.user !== null} onClose={p.onClose} title={`Ban ${name} for good?`} id="ban">
      <form onSubmit={submit} noValidate>
        <p>
          {name} is disconnected and can no longer log in, until someone unbans them.
        </p>
        <label for="ban-reason">Reason</label>
        <input
          id="ban-reason"
          value={reason}
          onInput={(e) =>
            setReason((e.currentTarget as HTMLInputElement).value)}
        />
        <label>
          <input
            type="checkbox"
            checked={purge}
            onChange={(e) =>
              setPurge((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Also delete all their messages
        </label>
        {problem && !problem.ok && <p class="error" role="alert">{problem.message}</p>}
        <div class="row">
          <button type="submit" class="danger">
            {purge ? `Ban ${name} and delete their messages` : `Ban ${name}`}
          </button>
          <button type="button" class="secondary" onClick={p.onClose}>Keep {name}</button>
        </div>
      </form>
    </ModDialog>
  );
}

function Announce(p: { tools: ModerationTools }): JSX.Element {
  const [text, setText] = useState("");
  return (
    <form
      class="mod-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if ((await p.tools.announce(text)).ok) setText("");
      }}
    >
      <label for="mod-announce">Announcement</label>
      <textarea
        id="mod-announce"
        rows={2}
        value={text}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <button type="submit">Announce</button>
    </form>
  );
}

function Shutdown(p: { tools: ModerationTools }): JSX.Element {
  const { chat } = useApp();
  const [seconds, setSeconds] = useState("10");
  const counting = chat.session.countdown.value !== null;
  return (
    <form
      class="mod-form"
      onSubmit={(e) => {
        e.preventDefault();
        void p.tools.shutdown(seconds);
      }}
    >
      <label for="mod-shutdown">Seconds before shutdown</label>
      <input
        id="mod-shutdown"
        inputMode="numeric"
        value={seconds}
        onInput={(e) => setSeconds((e.currentTarget as HTMLInputElement).value)}
      />
      <div class="row">
        <button type="submit" class="danger">Start shutdown</button>
        {counting && (
          <button
            type="button"
            class="secondary"
            onClick={() => void p.tools.cancelShutdown()}
          >
            Cancel shutdown
          </button>
        )}
      </div>
    </form>
  );
}
