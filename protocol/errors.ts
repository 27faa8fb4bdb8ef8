/**
 * Error codes of the public protocol and the JSON body every HTTP error uses.
 *
 * @module
 */

/** Every error code PROTOCOL.md defines, plus `not_found` for unknown HTTP routes. */
export type ErrorCode =
  | "invalid"
  | "unauthenticated"
  | "forbidden"
  | "not_member"
  | "unknown_salon"
  | "unknown_user"
  | "too_long"
  | "rate_limited"
  | "banned"
  | "bad_credentials"
  | "username_taken"
  | "alias_taken"
  | "shutting_down"
  | "internal"
  | "not_found"
  // -- mute and slow mode (PROTOCOL 5.4)
  | "muted"
  | "slow_mode";

/** The body of every HTTP error: `{"error": {"code", "message", until?}}`. */
export interface ErrorBody {
  /** The error object. */
  error: {
    /** Machine-readable code. */
    code: ErrorCode;
    /** A human sentence saying what went wrong and what to do. */
    message: string;
    /** End of a kick, ISO-8601 UTC, only for `banned` after a kick. */
    until?: string;
  };
}

/**
 * An error that carries a protocol code and an HTTP status. Services throw it;
 * routes turn it into an error body, the WebSocket layer into an `error` frame.
 */
export class ProtocolError extends Error {
  /** Machine-readable code. */
  readonly code: ErrorCode;
  /** HTTP status used when this error answers an HTTP request. */
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503;
  /** Extra fields carried next to code and message (`until`, `retryAfter`). */
  readonly extra: { until?: string; retryAfterSeconds?: number };

  /** Builds an error; `message` must tell the reader what to do. */
  constructor(
    code: ErrorCode,
    status: ProtocolError["status"],
    message: string,
    extra: ProtocolError["extra"] = {},
  ) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
    this.status = status;
    this.extra = extra;
  }

  /** The HTTP body of this error. */
  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.extra.until !== undefined) body.error.until = this.extra.until;
    return body;
  }
}
