/**
 * Where the semantic layer keeps its vectors: one row per stored answer (its scope, the prompt's
 * embedding, the prompt text for the guard, the exact-cache key of the answer, its expiry). Embedded:
 * sqlite-vec (src/cache/sqlite-vec-store.ts); with PostgreSQL storage, pgvector (src/cache/pgvector-store.ts).
 */
export interface VectorMatch {
  entryKey: string;
  prompt: string;
  /** Cosine similarity, 1 for the same direction. */
  similarity: number;
}

export interface VectorRow {
  scope: string;
  embedding: number[];
  entryKey: string;
  prompt: string;
  expiresAt: number;
}

export interface VectorStore {
  readonly kind: 'sqlite-vec' | 'pgvector';
  /** The `limit` nearest live rows of `scope`, nearest first. */
  search(scope: string, embedding: number[], limit: number): Promise<VectorMatch[]>;
  insert(row: VectorRow): Promise<void>;
  /** Removes every row. */
  purge(): Promise<void>;
  close(): Promise<void>;
}

/** Embedding dimensions accepted (a table per dimension count). */
export function checkDimensions(embedding: number[]): number {
  const dimensions = embedding.length;
  if (!Number.isSafeInteger(dimensions) || dimensions < 1 || dimensions > 16_000) throw new Error(`embedding has ${dimensions} dimensions`);
  return dimensions;
}
