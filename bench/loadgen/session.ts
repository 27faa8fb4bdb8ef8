/**
 * One chat session of the load generator over {@link WsClient}, speaking
 * either Causerie's protocol (also spoken by the bare Deno baseline) or
 * socket.io's (engine.io v4 / socket.io v5 text packets: `40` connect,
 * `42[event,data]`, `42N[...]` with an ack that comes back as `43N[...]`).
 *
 * Incoming frames are classified from their first bytes and never parsed as
 * JSON on the hot path: send times travel inside the message text (a marker
 * `~STEP:MS~`) and inside `ref` (Causerie) or the ack id (socket.io).
 *
 * @module
 */

import { textOf, WsClient } from "./ws_client.ts";

/** The servers under test. */
export type TargetKind = "causerie" | "bare" | "socketio";

/** Where the measured events go. */
export interface Sink {
  /**
   * An `ok` (or socket.io ack) for a message sent at `sentAt` during `step`;
   * `timed` is false for a lazy reader, whose latency is not meaningful.
   */
  ack(step: number, sentAt: number, timed: boolean): void;
  /** A `message`/`direct` delivery of a message sent at `sentAt` during `step`. */
  delivery(step: number, sentAt: number, timed: boolean): void;
  /** A refusal of a message sent during `step` (`step` is -1 when unknown). */
  refused(step: number, code: string): void;
  /** Any frame arrived (for quiescence detection), with its size. */
  frame(bytes: number): void;
}

/** A sink that ignores everything. */
export const nullSink: Sink = { ack() {}, delivery() {}, refused() {}, frame() {} };

const TILDE = 0x7e;
const COLON = 0x3a;
const DOT = 0x2e;

/** Result of {@link parseStamp}: the step and the time, or step -1. */
const stamp = { step: -1, t: 0, end: 0 };

/** Parses `STEP:MS` (MS with a decimal point) starting at `i`; fills {@link stamp}. */
function parseStamp(p: Uint8Array, i: number): void {
  let step = 0;
  let c = p[i];
  if (c < 48 || c > 57) {
    stamp.step = -1;
    return;
  }
  while (i < p.length && (c = p[i]) >= 48 && c <= 57) {
    step = step * 10 + (c - 48);
    i++;
  }
  if (p[i] !== COLON) {
    stamp.step = -1;
    return;
  }
  i++;
  let t = 0;
  while (i < p.length && (c = p[i]) >= 48 && c <= 57) {
    t = t * 10 + (c - 48);
    i++;
  }
  if (p[i] === DOT) {
    i++;
    let scale = 0.1;
    while (i < p.length && (c = p[i]) >= 48 && c <= 57) {
      t += (c - 48) * scale;
      scale /= 10;
      i++;
    }
  }
  stamp.step = step;
  stamp.t = t;
  stamp.end = i;
}

/** Finds the `~STEP:MS~` marker of a message text; fills {@link stamp}. */
function findMarker(p: Uint8Array, from: number): void {
  for (let i = from; i < p.length; i++) {
    if (p[i] === TILDE) {
      parseStamp(p, i + 1);
      if (stamp.step >= 0 && p[stamp.end] === TILDE) return;
    }
  }
  stamp.step = -1;
}

/** The marker to put in a message text. */
export function marker(step: number, t: number): string {
  return `~${step}:${t.toFixed(3)}~`;
}

// socket.io acks: a global ring of send times by ack id.
const RING = 1 << 20;
const ringAt = new Float64Array(RING);
const ringStep = new Int32Array(RING);
let nextAckId = 1;
const ackWaiters = new Map<number, (text: string) => void>();

/** Credentials of one user. */
export interface Credentials {
  /** Username. */
  username: string;
  /** Token (Causerie token hello). */
  token?: string;
  /** Password (Causerie password hello or register). */
  password?: string;
  /** Register instead of hello (Causerie). */
  register?: boolean;
}

/** Options of {@link Session.connect}. */
export interface ConnectOptions {
  /** Server kind. */
  kind: TargetKind;
  /** Server port on 127.0.0.1. */
  port: number;
  /** Who to be. */
  credentials: Credentials;
  /** Where measured events go. */
  sink: Sink;
  /** Read buffer size per socket. */
  bufferSize?: number;
  /** Source address to bind (to spread logins over addresses). */
  localAddress?: string;
  /** Time allowed for the whole handshake, ms. */
  timeoutMs?: number;
  /** Open the socket but wait for {@link Session.hello} before saying hello. */
  deferHello?: boolean;
}

/** An authenticated (or about to be) chat session. */
export class Session {
  readonly ws: WsClient;
  readonly kind: TargetKind;
  readonly credentials: Credentials;
  /** Token from the welcome (Causerie). */
  token: string | undefined;
  /** The sink events go to (may be swapped between phases). */
  sink: Sink;
  #welcome = Promise.withResolvers<void>();
  #welcomed = false;
  #joinWaiter: ((ok: boolean) => void) | undefined;
  #pongWaiter: ((t: number) => void) | undefined;
  /** Close code, once closed. */
  closeCode: number | undefined;

  private constructor(ws: WsClient, opts: ConnectOptions) {
    this.ws = ws;
    this.kind = opts.kind;
    this.credentials = opts.credentials;
    this.sink = opts.sink;
    this.#welcome.promise.catch(() => {});
    ws.onText = opts.kind === "socketio" ? (p) => this.#onSocketIo(p) : (p) => this.#onCauserie(p);
    ws.onClose = (_ws, code) => {
      this.closeCode = code ?? 1006;
      this.#welcome.reject(new Error(`closed before welcome (code ${this.closeCode})`));
      this.#joinWaiter?.(false);
    };
  }

  /** Opens the socket, says hello (unless deferred) and, unless deferred, waits for welcome. */
  static async connect(opts: ConnectOptions): Promise<Session> {
    const path = opts.kind === "socketio" ? "/socket.io/?EIO=4&transport=websocket" : "/ws";
    const ws = await WsClient.open({
      hostname: "127.0.0.1",
      port: opts.port,
      path,
      bufferSize: opts.bufferSize,
      localAddress: opts.localAddress,
      timeoutMs: opts.timeoutMs,
    });
    const s = new Session(ws, opts);
    ws.run();
    if (opts.deferHello) return s;
    s.hello();
    await s.welcomed(opts.timeoutMs ?? 30_000);
    return s;
  }

  /** Sends the hello (Causerie, bare); socket.io connects on the server's open packet. */
  hello(): void {
    if (this.kind === "socketio") {
      this.#helloRequested = true;
      if (this.#opened) this.#sendConnect();
      return;
    }
    const c = this.credentials;
    if (c.register) {
      this.ws.send(JSON.stringify({
        type: "register",
        username: c.username,
        alias: c.username,
        password: c.password,
      }));
    } else if (c.token) this.ws.send(JSON.stringify({ type: "hello", token: c.token }));
    else {
      this.ws.send(
        JSON.stringify({ type: "hello", username: c.username, password: c.password ?? "x" }),
      );
    }
  }

  #helloRequested = false;
  #opened = false;

  #sendConnect(): void {
    this.ws.send(`40${JSON.stringify({ username: this.credentials.username })}`);
  }

  /** Resolves at the welcome (socket.io: the namespace connect); rejects on refusal or timeout. */
  async welcomed(timeoutMs: number): Promise<void> {
    if (this.#welcomed) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#welcome.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no welcome within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the session was welcomed. */
  get isWelcomed(): boolean {
    return this.#welcomed;
  }

  /** Joins a salon (room); resolves once joined. */
  join(salon: string, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#joinWaiter = undefined;
        reject(new Error(`no joined for ${salon} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#joinWaiter = undefined;
        if (ok) resolve();
        else reject(new Error(`join ${salon} refused or connection closed`));
      };
      if (this.kind === "socketio") {
        const id = nextAckId++;
        ackWaiters.set(id, () => done(true));
        this.ws.send(`42${id}${JSON.stringify(["join", salon])}`);
      } else {
        this.#joinWaiter = done;
        this.ws.send(JSON.stringify({ type: "join", salon, ref: "join" }));
      }
    });
  }

  /** Sends a message to a salon; `t` is the send time (performance.now()). */
  say(salon: string, text: string, step: number, t: number): void {
    const stampText = `${marker(step, t)} ${text}`;
    if (this.kind === "socketio") {
      const id = nextAckId++;
      ringAt[id & (RING - 1)] = t;
      ringStep[id & (RING - 1)] = step;
      this.ws.send(`42${id}${JSON.stringify(["say", { salon, text: stampText }])}`);
      return;
    }
    this.ws.send(
      `{"type":"say","ref":"${step}:${t.toFixed(3)}","salon":${JSON.stringify(salon)},"text":${
        JSON.stringify(stampText)
      }}`,
    );
  }

  /** Sends a direct message to `to`. */
  direct(to: string, text: string, step: number, t: number): void {
    const stampText = `${marker(step, t)} ${text}`;
    if (this.kind === "socketio") {
      const id = nextAckId++;
      ringAt[id & (RING - 1)] = t;
      ringStep[id & (RING - 1)] = step;
      this.ws.send(`42${id}${JSON.stringify(["direct", { to, text: stampText }])}`);
      return;
    }
    this.ws.send(
      `{"type":"direct","ref":"${step}:${t.toFixed(3)}","to":${JSON.stringify(to)},"text":${
        JSON.stringify(stampText)
      }}`,
    );
  }

  /** Round trip of a `ping` (Causerie, bare), ms. */
  ping(timeoutMs = 10_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        this.#pongWaiter = undefined;
        reject(new Error("no pong"));
      }, timeoutMs);
      this.#pongWaiter = (t) => {
        clearTimeout(timer);
        this.#pongWaiter = undefined;
        resolve(t - t0);
      };
      this.ws.send(`{"type":"ping","ref":"p"}`);
    });
  }

  /** Closes the socket. */
  close(): void {
    this.ws.close();
  }

  #onCauserie(p: Uint8Array): void {
    this.sink.frame(p.byteLength);
    // Every server frame starts with {"type":"
    const a = p[9];
    const b = p[10];
    if (a === 0x6d /* m */ && b === 0x65 /* e */) { // message
      findMarker(p, 40);
      if (stamp.step >= 0) this.sink.delivery(stamp.step, stamp.t, this.ws.readDelayMs === 0);
    } else if (a === 0x6f /* o */ && b === 0x6b /* k */) { // ok
      // `"ref":"STEP:MS"}` closes the frame.
      const end = p.length - 2;
      let i = end - 1;
      while (i > 0 && p[i] !== 0x22) i--;
      parseStamp(p, i + 1);
      if (stamp.step >= 0) this.sink.ack(stamp.step, stamp.t, this.ws.readDelayMs === 0);
    } else if (a === 0x64 /* d */) { // direct
      findMarker(p, 40);
      if (stamp.step >= 0) this.sink.delivery(stamp.step, stamp.t, this.ws.readDelayMs === 0);
    } else if (a === 0x77 /* w */) { // welcome
      const frame = JSON.parse(textOf(p));
      this.token = frame.token;
      this.#welcomed = true;
      this.#welcome.resolve();
    } else if (a === 0x6a /* j */) { // joined
      this.#joinWaiter?.(true);
    } else if (a === 0x70 /* p */ && b === 0x6f /* o */) { // pong
      this.#pongWaiter?.(performance.now());
    } else if (a === 0x65 /* e */ && b === 0x72 /* r */) { // error
      const frame = JSON.parse(textOf(p)) as { code: string; ref?: string; message: string };
      if (!this.#welcomed) {
        this.#welcome.reject(new Error(`${frame.code}: ${frame.message}`));
        return;
      }
      if (frame.ref === "join") {
        this.#joinWaiter?.(false);
        return;
      }
      const step = frame.ref ? Number(frame.ref.split(":")[0]) : -1;
      this.sink.refused(Number.isFinite(step) ? step : -1, frame.code);
    }
    // presence, notice, joined...: counted as frames only
  }

  #onSocketIo(p: Uint8Array): void {
    this.sink.frame(p.byteLength);
    const a = p[0];
    if (a === 0x34 /* 4 */) {
      const b = p[1];
      if (b === 0x32 /* 2: event */) {
        findMarker(p, 10);
        if (stamp.step >= 0) this.sink.delivery(stamp.step, stamp.t, this.ws.readDelayMs === 0);
      } else if (b === 0x33 /* 3: ack */) {
        let id = 0;
        let i = 2;
        let c: number;
        while (i < p.length && (c = p[i]) >= 48 && c <= 57) {
          id = id * 10 + (c - 48);
          i++;
        }
        const waiter = ackWaiters.get(id);
        if (waiter) {
          ackWaiters.delete(id);
          waiter(textOf(p.subarray(i)));
          return;
        }
        const slot = id & (RING - 1);
        if (p[i + 3] === 0x65 /* [{"e(rror) */) this.sink.refused(ringStep[slot], "error");
        else this.sink.ack(ringStep[slot], ringAt[slot], this.ws.readDelayMs === 0);
      } else if (b === 0x30 /* 0: connected */) {
        this.#welcomed = true;
        this.#welcome.resolve();
      } else if (b === 0x34 /* 4: connect error */) {
        this.#welcome.reject(new Error(`connect_error ${textOf(p.subarray(2))}`));
      }
    } else if (a === 0x32 /* 2: ping */ && p.length === 1) {
      this.ws.send("3");
    } else if (a === 0x30 /* 0: open */) {
      this.#opened = true;
      if (this.#helloRequested) this.#sendConnect();
    }
  }
}
