/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The inspector page's views: the login form, the status line, the filters
 * (by machine, by user), the actor tree (nested lists of buttons: Tab and
 * Enter select an actor) and the selected actor's details with its
 * statechart, the current state highlighted.
 *
 * @module
 */

import { Fragment, type JSX } from "preact";
import { useState } from "preact/hooks";
import { type ApiProblem, problemFor } from "../core/api.ts";
import type { FeedStatus } from "../core/inspector_feed.ts";
import { type ActorView, eventWords, type TreeNode, valueWords } from "../core/inspector_store.ts";
import { Field } from "../views/field.tsx";
import type { InspectorPage } from "./page.ts";
import { StatechartDiagram } from "./statechart_diagram.tsx";

/** The login form (admin or moderator). */
export function InspectorLogin({ page }: { page: InspectorPage }): JSX.Element {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(await page.logIn(username, password));
    setBusy(false);
  };
  return (
    <main class="auth">
      <h1>Causerie inspector</h1>
      <form onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h2 id="login-title">Log in as a moderator or admin</h2>
        {page.loginNote.value && <p class="note">{page.loginNote.value}</p>}
        <Field
          id="login-username"
          label="Username"
          value={username}
          onInput={setUsername}
          autocomplete="username"
          error={problemFor(problem, "username")}
        />
        <Field
          id="login-password"
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete="current-password"
          error={problemFor(problem, "password")}
        />
        {problem && !problem.field && <p class="error">{problem.message}</p>}
        <button type="submit" disabled={busy}>Log in</button>
      </form>
    </main>
  );
}

/** The status line's words. */
export function statusWords(status: FeedStatus): string {
  switch (status.kind) {
    case "connecting":
      return "Connecting to the live stream…";
    case "live":
      return "Live.";
    case "polling":
      return "Refreshed every 2 s. Live events need an admin login.";
    case "waiting":
      return `Connection lost; trying again in ${Math.ceil(status.ms / 1000)} s.`;
    case "refused":
      return status.message;
    case "stopped":
      return "Stopped.";
  }
}

function actorWords(a: ActorView): string {
  const who = [a.facts.username, a.facts.salon].filter((v) => typeof v === "string").join(" ");
  return who;
}

function TreeItems(
  { nodes, page }: { nodes: TreeNode[]; page: InspectorPage },
): JSX.Element {
  const selected = page.selected.value;
  page.version.value; // redraw when the store changes (the actors change in place)
  return (
    <ul>
      {nodes.map(({ actor: a, children }) => (
        <li key={a.id}>
          <button
            type="button"
            class={`actor${a.status === "active" ? "" : " ended"}`}
            aria-current={selected === a.id ? "true" : undefined}
            onClick={() => (page.selected.value = a.id)}
          >
            <span class="machine">{a.machine}</span> <span class="id">{a.id}</span>{" "}
            <span class="value">{valueWords(a.value)}</span>
            {actorWords(a) && <span class="who">{` ${actorWords(a)}`}</span>}
            {typeof a.facts.remaining === "number" && (
              <span class="who">{` ${a.facts.remaining} s left`}</span>
            )}
            {a.status !== "active" && <span class="status">{` (${a.status})`}</span>}
          </button>
          {children.length > 0 && <TreeItems nodes={children} page={page} />}
        </li>
      ))}
    </ul>
  );
}

function Details({ page, actor }: { page: InspectorPage; actor: ActorView }): JSX.Element {
  const machines = page.machines.value;
  const definition = machines?.[actor.machine];
  page.version.value; // redraw when the store changes (the actor changes in place)
  return (
    <section class="details" aria-labelledby="details-title">
      <h2 id="details-title">{actor.machine} {actor.id}</h2>
      <dl>
        <dt>Machine</dt>
        <dd>{actor.machine}</dd>
        <dt>State</dt>
        <dd class="value">{valueWords(actor.value)}</dd>
        <dt>Status</dt>
        <dd>{actor.status}</dd>
        {actor.parentId && (
          <>
            <dt>Parent</dt>
            <dd>{actor.parentId}</dd>
          </>
        )}
        {Object.entries(actor.facts).map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
          </Fragment>
        ))}
      </dl>
      <h3>Last events</h3>
      {actor.events.length === 0 ? <p class="muted">No event seen yet.</p> : (
        <ol class="events">
          {[...actor.events].reverse().map((e, i) => (
            <li key={`${e.at}:${i}`}>
              <time dateTime={new Date(e.at).toISOString()}>
                {new Date(e.at).toLocaleTimeString()}
              </time>{" "}
              <span class="type" title={e.type}>{eventWords(e.type)}</span>
              {e.fields && <span class="fields">{` ${e.fields}`}</span>}
              {"value" in e && <span class="value">{` → ${valueWords(e.value)}`}</span>}
            </li>
          ))}
        </ol>
      )}
      <h3>Statechart</h3>
      {definition
        ? <StatechartDiagram machine={definition} active={actor.value} />
        : (
          <p class="muted">
            {page.machinesProblem.value ||
              (machines ? `No definition for ${actor.machine}.` : "Loading the definitions…")}
          </p>
        )}
    </section>
  );
}

/** The inspector: status, filters, tree and details. */
export function Inspector({ page }: { page: InspectorPage }): JSX.Element {
  page.version.value; // redraw when the store changes
  const store = page.store;
  const tree = store.tree({ machine: page.filterMachine.value, user: page.filterUser.value });
  const selected = page.selected.value ? store.actors.get(page.selected.value) : undefined;
  const user = page.user.value;
  return (
    <div class="inspector">
      <header class="bar">
        <h1>Causerie inspector</h1>
        <p role="status" class="feed-status">
          {statusWords(page.status.value)}
          {store.dropped > 0 && ` ${store.dropped} events dropped.`}
        </p>
        {user && <span class="me">{user.username} ({user.role})</span>}
        <button type="button" onClick={() => page.logOut()}>Log out</button>
      </header>
      <main>
        <section class="tree" aria-labelledby="tree-title">
          <h2 id="tree-title">Actors</h2>
          <form
            class="filters"
            role="search"
            aria-label="Filter actors"
            onSubmit={(e) => e.preventDefault()}
          >
            <label for="filter-machine">Machine</label>
            <select
              id="filter-machine"
              value={page.filterMachine.value}
              onChange={(
                e,
              ) => (page.filterMachine.value = (e.currentTarget as HTMLSelectElement).value)}
            >
              <option value="">All machines</option>
              {[...new Set([...store.machines(), ...Object.keys(page.machines.value ?? {})])]
                .sort().map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
            <label for="filter-user">User</label>
            <input
              id="filter-user"
              type="text"
              value={page.filterUser.value}
              onInput={(e) => (page.filterUser.value = (e.currentTarget as HTMLInputElement).value)}
            />
          </form>
          <p class="muted">{store.actors.size} actors.</p>
          {tree.length === 0
            ? <p class="muted">No actor matches.</p>
            : <TreeItems nodes={tree} page={page} />}
        </section>
        {selected
          ? <Details page={page} actor={selected} />
          : (
            <section class="details" aria-labelledby="details-title">
              <h2 id="details-title">No actor selected</h2>
              <p class="muted">
                Choose an actor in the tree to see its state, events and statechart.
              </p>
            </section>
          )}
      </main>
    </div>
  );
}

/** The page: login, or the inspector. */
export function InspectorRoot({ page }: { page: InspectorPage }): JSX.Element {
  return page.screen.value === "login" ? <InspectorLogin page={page} /> : <Inspector page={page} />;
}
