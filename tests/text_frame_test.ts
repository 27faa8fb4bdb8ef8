import assert from "node:assert/strict";
import { textFrame } from "../routes/ws.ts";

Deno.test("textFrame: FIN + text opcode, unmasked, 7-bit / 16-bit / 64-bit lengths, UTF-8 payload", () => {
  for (const n of [0, 1, 125, 126, 65535, 65536, 70000]) {
    const text = "é".repeat(Math.floor(n / 2)) + "x".repeat(n % 2);
    const bytes = new TextEncoder().encode(text);
    const frame = textFrame(text);
    assert.equal(frame[0], 0x81, `first byte for ${n}`);
    let len = frame[1];
    let head = 2;
    assert.equal(len & 0x80, 0, "server frames are not masked");
    if (len === 126) {
      len = frame.readUInt16BE(2);
      head = 4;
    } else if (len === 127) {
      len = Number(frame.readBigUInt64BE(2));
      head = 10;
    }
    assert.equal(len, bytes.byteLength, `length for ${n}`);
    assert.equal(head, bytes.byteLength < 126 ? 2 : bytes.byteLength < 65536 ? 4 : 10);
    assert.deepEqual(new Uint8Array(frame.subarray(head)), bytes);
  }
});
