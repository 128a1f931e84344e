/**
 * Ids of usage and audit rows: UUID version 7 (RFC 9562, section 5.7: https://www.rfc-editor.org/rfc/rfc9562#section-5.7),
 * a 48-bit Unix time in milliseconds followed by 74 random bits, in the usual 8-4-4-4-12 hex form.
 *
 * Why not `randomUUID()` (version 4): the id is the table's unique key, and a random key lands on a random
 * page of its index, so a batch of N rows dirties about N index pages, each written to the SQLite WAL (4 KiB
 * apiece) at commit. Time-ordered ids land on the last page or two of the index: the batch insert costs
 * markedly less CPU and I/O (see docs/records-and-secrets.md). Ids of one millisecond are ordered at random
 * among themselves; uniqueness rests on the 74 random bits, as with version 4's 122.
 */
import { randomFillSync } from 'node:crypto';

const hex: string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Random bytes drawn in blocks: one `randomFillSync` per 512 ids instead of one per id. */
const pool = Buffer.alloc(10 * 512);
let poolOffset = pool.length;

export function recordId(now: number = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const random = poolOffset;
  poolOffset += 10;
  // 48 bits of milliseconds: the high 16 bits and the low 32 bits, as integers (no BigInt).
  const high = Math.floor(now / 0x1_0000_0000) & 0xffff;
  const low = now >>> 0;
  return (
    hex[high >>> 8]! +
    hex[high & 0xff]! +
    hex[low >>> 24]! +
    hex[(low >>> 16) & 0xff]! +
    '-' +
    hex[(low >>> 8) & 0xff]! +
    hex[low & 0xff]! +
    '-' +
    // version 7 in the high nibble, then 12 random bits
    hex[0x70 | (pool[random]! & 0x0f)]! +
    hex[pool[random + 1]!]! +
    '-' +
    // variant 0b10 in the two high bits, then 62 random bits
    hex[0x80 | (pool[random + 2]! & 0x3f)]! +
    hex[pool[random + 3]!]! +
    '-' +
    hex[pool[random + 4]!]! +
    hex[pool[random + 5]!]! +
    hex[pool[random + 6]!]! +
    hex[pool[random + 7]!]! +
    hex[pool[random + 8]!]! +
    hex[pool[random + 9]!]!
  );
}
