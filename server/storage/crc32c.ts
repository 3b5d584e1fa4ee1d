// CRC32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
// Table driven, one byte per step. Check value: crc32c("123456789") === 0xE3069283.

const POLYNOMIAL_REFLECTED = 0x82f63b78;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL_REFLECTED : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Continues a CRC32C over `bytes`; pass the previous result as `crc` to checksum in pieces. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let k = 0; k < bytes.length; k++) c = TABLE[(c ^ bytes[k]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
