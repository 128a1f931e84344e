/**
 * Ids of usage and audit rows (src/storage/record-id.ts): UUID version 7 (RFC 9562 section 5.7), so that
 * rows inserted one after the other land at the end of the id index; unique; their leading 48 bits are
 * the creation time in milliseconds; and the recorders use them.
 */
import { describe, expect, it } from 'vitest';
import { recordId } from '../src/storage/record-id.ts';

const versionSeven = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const millisecondsOf = (id: string): number => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('record ids', () => {
  it('are version 7 UUIDs carrying their creation time', () => {
    for (const now of [0, 1, 1_764_700_000_000, 2 ** 32, 2 ** 32 - 1, 2 ** 48 - 1]) {
      const id = recordId(now);
      expect(id).toMatch(versionSeven);
      expect(millisecondsOf(id)).toBe(now);
    }
    const before = Date.now();
    const id = recordId();
    expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisecondsOf(id)).toBeLessThanOrEqual(Date.now());
  });

  it('are unique and sort by time', () => {
    const ids = Array.from({ length: 20_000 }, (_unused, index) => recordId(1_764_700_000_000 + Math.floor(index / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => versionSeven.test(id))).toBe(true);
    // Across milliseconds the text order is the time order (the index appends at its end).
    const firstOfEach = ids.filter((_id, index) => index % 100 === 0);
    expect([...firstOfEach].sort()).toEqual(firstOfEach);
    expect(ids.filter((_id, index) => index % 100 === 99).every((id, index) => id < (firstOfEach[index + 1] ?? 'g'))).toBe(true);
  });

  it('spread their random bits', () => {
    // 74 random bits: every hex digit after the version takes many values over a few thousand ids.
    const ids = Array.from({ length: 4_000 }, () => recordId(1_764_700_000_000).replaceAll('-', ''));
    for (const position of [13, 14, 15, 17, 18, 20, 25, 31]) {
      expect(new Set(ids.map((id) => id[position])).size).toBe(16);
    }
  });
});
