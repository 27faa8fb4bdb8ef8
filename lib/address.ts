/**
 * Client addresses as limits count them: an IPv4 address stands for itself,
 * an IPv6 address for its /64 (one home or one cloud instance usually holds a
 * whole /64), an IPv4-mapped IPv6 address for the IPv4 address inside.
 *
 * @module
 */

import ipaddr from "ipaddr.js";

/**
 * The key under which per-address limits count `address`: `192.0.2.7`,
 * `2001:db8:1:2::/64`. Anything that does not parse as an IP address (a Unix
 * socket, `"unknown"`) is its own key.
 */
export function addressKey(address: string): string {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) return address;
  const parsed = ipaddr.process(bare);
  if (parsed.kind() === "ipv4") return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  const prefix = new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString();
  return `${prefix}/64`;
}

/**
 * Whether `host` (a name or an IP address, IPv6 possibly in brackets) is this
 * machine's loopback: `localhost`, `127.0.0.0/8`, `::1` (or an IPv4-mapped
 * loopback).
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === "localhost") return true;
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return false;
  return ipaddr.process(bare).range() === "loopback";
}
