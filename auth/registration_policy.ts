/**
 * Who may register and how fast ({@link RegistrationPolicy}), and the
 * refusals a registration gets. Re-exported by auth/accounts.ts.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";

/** Who may register themselves, and how fast (config: `CAUSERIE_REGISTRATION`, `CAUSERIE_REGISTER_*`). */
export interface RegistrationPolicy {
  /** `open`: anyone registers; `closed`: only admins create accounts. */
  mode: "open" | "closed";
  /** Registrations per client address (IPv6 by /64) per hour; 0: no limit. */
  perAddressPerHour: number;
  /** Registrations per minute over all addresses; 0: no limit. */
  perMinute: number;
}

/** The defaults of {@link RegistrationPolicy}: open, 10 per address per hour, 60 per minute. */
export const DEFAULT_REGISTRATION: RegistrationPolicy = {
  mode: "open",
  perAddressPerHour: 10,
  perMinute: 60,
};

/** The refusal of a registration over its limits: `rate_limited`, retry after `wait` s. */
export function registrationLimited(wait: number): ProtocolError {
  return new ProtocolError(
    "rate_limited",
    429,
    `too many registrations from your address or overall; try again in ${wait} seconds`,
    { retryAfterSeconds: wait },
  );
}

/** The refusal of a registration whose username or alias is taken. */
export function taken(field: "username" | "alias", value: string): ProtocolError {
  return new ProtocolError(
    field === "username" ? "username_taken" : "alias_taken",
    409,
    `the ${field} "${value}" is already taken; choose another`,
  );
}
