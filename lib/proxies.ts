/**
 * The client's address behind reverse proxies. Only the proxies listed in
 * `CAUSERIE_TRUSTED_PROXIES` are believed when they say, in `X-Forwarded-For`
 * or `Forwarded` (RFC 7239, `for=`), whom they forward for; a header from
 * anyone else is ignored, so a client cannot choose its own address.
 *
 * @module
 */

import ipaddr from "ipaddr.js";

/** A parsed list of trusted proxy addresses and ranges. */
export interface TrustedProxies {
  /** Whether `address` (an IP address, IPv4-mapped or not) is a trusted proxy. */
  trusts(address: string): boolean;
  /** Whether the list is empty (nobody's forwarding headers are believed). */
  readonly empty: boolean;
}

/** Trusts nobody: the peer of the TCP connection is the client. */
export const NO_TRUSTED_PROXIES: TrustedProxies = { trusts: () => false, empty: true };

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** An IP address without brackets or port, IPv4-mapped IPv6 as IPv4; `undefined` if not one. */
export function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let s = text.trim();
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) return undefined;
    s = s.slice(1, end);
  } else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(s)) {
    s = s.slice(0, s.lastIndexOf(":"));
  }
  if (!ipaddr.isValid(s)) return undefined;
  // ipaddr.isValid accepts shorthands such as "10" or "0x7f.1"; only the usual forms count.
  if (!s.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  return ipaddr.process(s);
}

/**
 * Parses a comma-separated list of addresses and CIDR ranges
 * (`10.0.0.0/8, 192.0.2.1, ::1, fd00::/8`). Throws an Error naming the first
 * entry that is neither.
 */
export function parseTrustedProxies(list: string | readonly string[]): TrustedProxies {
  const entries = (typeof list === "string" ? list.split(",") : list)
    .map((e) => e.trim())
    .filter((e) => e !== "");
  const ranges: Range[] = [];
  for (const entry of entries) {
    if (entry.includes("/")) {
      try {
        const [addr, bits] = ipaddr.parseCIDR(entry);
        if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
          ranges.push([(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]);
        } else {
          ranges.push([addr, bits]);
        }
      } catch {
        throw new Error(`"${entry}" is not an address range; write it like 10.0.0.0/8 or fd00::/8`);
      }
      continue;
    }
    const addr = parseIp(entry);
    if (!addr) {
      throw new Error(`"${entry}" is not an IP address; write it like 192.0.2.1 or ::1`);
    }
    ranges.push([addr, addr.kind() === "ipv4" ? 32 : 128]);
  }
  if (ranges.length === 0) return NO_TRUSTED_PROXIES;
  return {
    empty: false,
    trusts(address) {
      const ip = parseIp(address);
      if (!ip) return false;
      return ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
    },
  };
}

/**
 * The addresses a `Forwarded` header (RFC 7239) lists in its `for=` pairs,
 * left to right (several headers joined with commas). Entries that are not IP
 * addresses (`unknown`, obfuscated `_names`) are kept as they are.
 */
export function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq < 0) continue;
      if (pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      let value = pair.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
        value = value.slice(1, -1).replace(/\\(.)/g, "$1");
      }
      out.push(value);
    }
  }
  return out;
}

/**
 * The client's address: the TCP peer, unless the peer is a trusted proxy; then
 * the right-most address of the forwarding chain that is not a trusted proxy
 * (`X-Forwarded-For` when present, `Forwarded` otherwise). A chain entry that
 * is not an IP address stops the walk at the last trusted hop, which is then
 * the address; a chain made only of trusted proxies gives its left-most entry.
 */
export function clientAddressFrom(
  peer: string,
  headers: { get(name: string): string | null | undefined },
  trusted: TrustedProxies,
): string {
  if (trusted.empty || !trusted.trusts(peer)) return peer;
  const xff = headers.get("x-forwarded-for");
  const forwarded = headers.get("forwarded");
  const chain = xff ? xff.split(",") : forwarded ? forwardedFor(forwarded) : [];
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    const ip = parseIp(chain[i]);
    if (!ip) break;
    client = ip.toString();
    if (!trusted.trusts(client)) break;
  }
  return client;
}
