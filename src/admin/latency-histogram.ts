/**
 * Latency percentiles without loading rows: the database counts calls in a fixed log-scale histogram
 * (8 buckets per doubling, from 1 ms to 2^20 ms, plus one below 1 ms and one above), with the smallest
 * and largest latency of each bucket; the percentile is read from those counts.
 *
 * Precision: the p-th percentile is the nearest-rank value (the ceil(p·n)-th smallest latency). The
 * histogram knows exactly which bucket holds that rank, and the estimate is interpolated between that
 * bucket's smallest and largest latency, so it lies in the same bucket as the exact value: at most
 * 2^(1/8) - 1 ≈ 9.05 % away from it (less than 1 ms below 1 ms; above 2^20 ms ≈ 17.5 min between the
 * observed extremes). The SQL is one nested CASE (a binary search over the bucket edges), portable across
 * SQLite and PostgreSQL.
 */
import { type RawBuilder, sql } from 'kysely';

export const bucketsPerDoubling = 8;
const doublings = 20;
/** Upper edges of the buckets: bucket 0 is [0, 1 ms), bucket i is [edge(i-1), edge(i)), the last is [2^20 ms, ∞). */
const edges = Array.from({ length: bucketsPerDoubling * doublings + 1 }, (_, index) => 2 ** (index / bucketsPerDoubling));
export const bucketCount = edges.length + 1;
/** Relative error bound of a percentile above 1 ms. */
export const relativePrecision = 2 ** (1 / bucketsPerDoubling) - 1;

/** SQL giving the histogram bucket (0 ... bucketCount-1) of a latency column. */
export function latencyBucketSql(column: string): RawBuilder<number> {
  const choose = (low: number, high: number): RawBuilder<number> => {
    if (low === high) return sql<number>`${sql.lit(low)}`;
    const middle = Math.floor((low + high) / 2);
    // Bucket b's upper edge is edges[b]: latency < edges[middle] means bucket <= middle.
    return sql<number>`case when ${sql.ref(column)} < ${sql.lit(edges[middle] as number)} then ${choose(low, middle)} else ${choose(middle + 1, high)} end`;
  };
  return choose(0, bucketCount - 1);
}

/** One histogram bucket as counted by the database. */
export interface LatencyCell {
  bucket: number;
  count: number;
  min: number;
  max: number;
}

/** Merges cells of the same bucket (for totals over several time buckets). */
export function mergeCells(cells: Iterable<LatencyCell>): LatencyCell[] {
  const merged = new Map<number, LatencyCell>();
  for (const cell of cells) {
    const known = merged.get(cell.bucket);
    if (!known) merged.set(cell.bucket, { ...cell });
    else {
      known.count += cell.count;
      known.min = Math.min(known.min, cell.min);
      known.max = Math.max(known.max, cell.max);
    }
  }
  return [...merged.values()];
}

/** The p-th percentile (0 < p <= 1) of the counted latencies, in ms; 0 without any. */
export function percentile(cells: readonly LatencyCell[], p: number): number {
  const sorted = [...cells].filter((cell) => cell.count > 0).sort((left, right) => left.bucket - right.bucket);
  const total = sorted.reduce((sum, cell) => sum + cell.count, 0);
  if (total === 0) return 0;
  const rank = Math.min(total, Math.max(1, Math.ceil(p * total)));
  let before = 0;
  for (const cell of sorted) {
    if (before + cell.count >= rank) {
      if (cell.count === 1) return cell.min;
      const position = (rank - before - 1) / (cell.count - 1);
      return Math.round((cell.min + (cell.max - cell.min) * position) * 1000) / 1000;
    }
    before += cell.count;
  }
  return sorted[sorted.length - 1]?.max ?? 0;
}
