/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The inspector page's entry point (`/admin/inspector`): the page's state on
 * the browser's services, rendered with Preact.
 *
 * @module
 */

import { render } from "preact";
import { type SocketLike, systemClock } from "../core/connection.ts";
import { InspectorPage } from "./page.ts";
import { InspectorRoot } from "./views.tsx";

const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/admin/inspect`;

const page = new InspectorPage({
  fetch: (input, init) => fetch(input, init),
  createSocket: () => new WebSocket(url) as unknown as SocketLike,
  clock: systemClock,
  storages: { session: sessionStorage, local: localStorage },
  nextFrame: (fn) => requestAnimationFrame(fn),
});

render(<InspectorRoot page={page} />, document.getElementById("app")!);
void page.resume();
