import assert from "node:assert/strict";
import { addressKey } from "../lib/address.ts";

Deno.test("addressKey: IPv4 as is, IPv6 by /64, IPv4-mapped as IPv4, anything else verbatim", () => {
  assert.equal(addressKey("192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  assert.notEqual(addressKey("2001:db8:1:3::1"), addressKey("2001:db8:1:2::1"));
  assert.equal(addressKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("[::1]"), "::/64");
  assert.equal(addressKey("unknown"), "unknown");
});
