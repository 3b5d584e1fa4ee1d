// CRC32C against published check values and a one-byte-per-step reference.
import fc from 'fast-check';
import t from 'tap';
import { crc32c } from './crc32c.js';

/** The plain bitwise CRC32C, one bit per step, as the reference for the table-driven version. */
function crc32cBitwise(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of bytes) {
    c ^= byte;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

t.test('crc32c known vectors', async (t) => {
  // The check value of the CRC catalogue, and the 32-byte vectors of RFC 3720 (iSCSI), appendix B.4.
  const ascending = Uint8Array.from({ length: 32 }, (_, k) => k);
  const descending = Uint8Array.from({ length: 32 }, (_, k) => 31 - k);
  t.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283, '"123456789"');
  t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, '32 zero bytes');
  t.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43, '32 bytes of 0xff');
  t.equal(crc32c(ascending), 0x46dd794e, '32 ascending bytes');
  t.equal(crc32c(descending), 0x113fdb5c, '32 descending bytes');
  t.equal(crc32c(new Uint8Array(0)), 0, 'no bytes');
});

t.test('crc32c matches bitwise reference', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (bytes, seed) => {
      return crc32c(bytes, seed) === crc32cBitwise(bytes, seed);
    }),
    { numRuns: 500 },
  );
  t.pass('500 random inputs agree');
});

t.test('crc32c continues across pieces', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (head, tail) => {
      const whole = new Uint8Array(head.length + tail.length);
      whole.set(head);
      whole.set(tail, head.length);
      return crc32c(tail, crc32c(head)) === crc32c(whole);
    }),
    { numRuns: 300 },
  );
  t.pass('300 random splits agree');
});

t.test('crc32c on unaligned subarrays', async (t) => {
  const bytes = Uint8Array.from({ length: 64 }, (_, k) => (k * 37) & 0xff);
  for (let start = 0; start < 9; start++) {
    const view = bytes.subarray(start, start + 41);
    t.equal(crc32c(view), crc32cBitwise(view), `offset ${start}`);
  }
});
