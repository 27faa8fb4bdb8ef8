/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The login and register forms. Every refusal is shown next to the field it
 * concerns (or above the button), a 429 with the time to wait.
 *
 * @module
 */

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { type ApiProblem, login, problemFor, register } from "../core/api.ts";
import { useApp } from "./app_state.ts";
import { Field } from "./field.tsx";

/** The login form. */
export function LoginForm(): JSX.Element {
  const app = useApp();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await login(app.fetch, username, password);
    setBusy(false);
    if (!r.ok) return setProblem(r.problem);
    app.loginNote.value = "";
    app.enter(r.value.token, remember);
  };
  return (
    <main class="auth">
      <h1>Causerie</h1>
      <form onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h2 id="login-title">Log in</h2>
        {app.loginNote.value && <p class="note">{app.loginNote.value}</p>}
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
        <div class="check">
          <input
            id="login-remember"
            type="checkbox"
            checked={remember}
            onChange={(e) => setRemember((e.currentTarget as HTMLInputElement).checked)}
          />
          <label for="login-remember">Remember me on this device</label>
        </div>
        {problem && !problem.field && <p class="error" id="login-error">{problem.message}</p>}
        <button type="submit" disabled={busy}>Log in</button>
      </form>
      <p>
        New here?{" "}
        <button type="button" class="link" onClick={() => (app.screen.value = "register")}>
          Create an account
        </button>
      </p>
    </main>
  );
}

/** The register form. */
export function RegisterForm(): JSX.Element {
  const app = useApp();
  const [username, setUsername] = useState("");
  const [alias, setAlias] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await register(app.fetch, username, alias, password);
    if (!r.ok) {
      setBusy(false);
      return setProblem(r.problem);
    }
    const l = await login(app.fetch, username, password);
    setBusy(false);
    if (!l.ok) {
      app.loginNote.value = `Account ${username} created. ${l.problem.message}`;
      app.screen.value = "login";
      return;
    }
    app.enter(l.value.token, false);
  };
  return (
    <main class="auth">
      <h1>Causerie</h1>
      <form onSubmit={submit} aria-labelledby="register-title" noValidate>
        <h2 id="register-title">Create an account</h2>
        <Field
          id="register-username"
          label="Username"
          value={username}
          onInput={setUsername}
          autocomplete="username"
          hint="3 to 32 letters, digits, dots, dashes or underscores."
          error={problemFor(problem, "username")}
        />
        <Field
          id="register-alias"
          label="Alias"
          value={alias}
          onInput={setAlias}
          autocomplete="nickname"
          hint="The name others see."
          error={problemFor(problem, "alias")}
        />
        <Field
          id="register-password"
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autocomplete="new-password"
          hint="At least 8 characters."
          error={problemFor(problem, "password")}
        />
        {problem && !problem.field && <p class="error">{problem.message}</p>}
        <button type="submit" disabled={busy}>Register</button>
      </form>
      <p>
        Already registered?{" "}
        <button type="button" class="link" onClick={() => (app.screen.value = "login")}>
          Back to log in
        </button>
      </p>
    </main>
  );
}
