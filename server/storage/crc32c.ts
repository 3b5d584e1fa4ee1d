// CRC32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
// Check value: crc32c("123456789") === 0xE3069283.
//
// Slicing-by-8: eight 256-entry tables let the loop fold 8 bytes per step instead of 1. Table k
// maps a byte b to the CRC register after b is followed by k zero bytes, so the eight lookups of a
// step are independent and XOR together into the register after all 8 bytes.

const POLYNOMIAL_REFLECTED = 0x82f63b78;
const SLICES = 8;

/** TABLES[256 * k + b]: the register for byte b followed by k zero bytes (k = 0 is the classic table). */
const TABLES = (() => {
  const tables = new Uint32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL_REFLECTED : c >>> 1;
    tables[n] = c >>> 0;
  }
  for (let k = 1; k < SLICES; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = tables[256 * (k - 1) + n];
      tables[256 * k + n] = ((previous >>> 8) ^ tables[previous & 0xff]) >>> 0;
    }
  }
  return tables;
})();

/** Continues a CRC32C over `bytes`; pass the previous result as `crc` to checksum in pieces. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let k = 0;
  const length = bytes.length;
  const blocksEnd = length - (length % SLICES);
  for (; k < blocksEnd; k += SLICES) {
    c ^= bytes[k] | (bytes[k + 1] << 8) | (bytes[k + 2] << 16) | (bytes[k + 3] << 24);
    c =
      t[1792 + (c & 0xff)] ^
      t[1536 + ((c >>> 8) & 0xff)] ^
      t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^
      t[768 + bytes[k + 4]] ^
      t[512 + bytes[k + 5]] ^
      t[256 + bytes[k + 6]] ^
      t[bytes[k + 7]];
  }
  for (; k < length; k++) c = t[(c ^ bytes[k]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
