/**
 * Semantic cache settings (environment; see docs/cache.md). Off unless SEMANTIC_CACHE_ENABLED is true,
 * which then needs the embedder: a configured provider and one of its embedding models.
 */
import { ConfigError } from '../config/config-error.ts';

/** `auto`: pgvector when storage is PostgreSQL and the server has the extension, else sqlite-vec. */
export type VectorStoreKind = 'auto' | 'sqlite-vec' | 'pgvector';

export interface SemanticCacheConfig {
  /** SEMANTIC_CACHE_ENABLED (default false). */
  enabled: boolean;
  /** SEMANTIC_CACHE_EMBEDDER_PROVIDER: name of a configured provider. */
  embedderProvider: string;
  /** SEMANTIC_CACHE_EMBEDDER_MODEL: an embedding model of that provider. */
  embedderModel: string;
  /** SEMANTIC_CACHE_THRESHOLD: least cosine similarity of a hit, 0 to 1 (default 0.92). */
  threshold: number;
  /**
   * SEMANTIC_CACHE_MAX_CONVERSATION_MESSAGES (default 3): conversations with more messages (system ones not
   * counted) are not looked up semantically; the earlier ones are part of the scope through a fingerprint.
   */
  maxConversationMessages: number;
  /**
   * SEMANTIC_CACHE_VECTOR_STORE: `auto` (default: pgvector when STORAGE_TYPE=postgresql and the extension
   * can be created, otherwise sqlite-vec with a warning), `sqlite-vec`, or `pgvector` (start fails without it).
   */
  vectorStore: VectorStoreKind;
}

export function readSemanticCacheConfig(env: Record<string, string | undefined>, flag: (name: string) => boolean): SemanticCacheConfig {
  const enabled = flag('SEMANTIC_CACHE_ENABLED');
  const embedderProvider = env.SEMANTIC_CACHE_EMBEDDER_PROVIDER?.trim() ?? '';
  const embedderModel = env.SEMANTIC_CACHE_EMBEDDER_MODEL?.trim() ?? '';
  if (enabled && !embedderProvider)
    throw new ConfigError('SEMANTIC_CACHE_EMBEDDER_PROVIDER', 'required when SEMANTIC_CACHE_ENABLED is true');
  if (enabled && !embedderModel) throw new ConfigError('SEMANTIC_CACHE_EMBEDDER_MODEL', 'required when SEMANTIC_CACHE_ENABLED is true');
  const rawThreshold = env.SEMANTIC_CACHE_THRESHOLD?.trim();
  const threshold = rawThreshold ? Number(rawThreshold) : 0.92;
  if (!Number.isFinite(threshold) || threshold <= 0 || threshold > 1) {
    throw new ConfigError('SEMANTIC_CACHE_THRESHOLD', `expected a number above 0 and at most 1, got '${rawThreshold}'`);
  }
  const rawMessages = env.SEMANTIC_CACHE_MAX_CONVERSATION_MESSAGES?.trim();
  const maxConversationMessages = rawMessages ? Number(rawMessages) : 3;
  if (!Number.isSafeInteger(maxConversationMessages) || maxConversationMessages < 1) {
    throw new ConfigError('SEMANTIC_CACHE_MAX_CONVERSATION_MESSAGES', `expected a positive integer, got '${rawMessages}'`);
  }
  const vectorStore = env.SEMANTIC_CACHE_VECTOR_STORE?.trim().toLowerCase() || 'auto';
  if (vectorStore !== 'auto' && vectorStore !== 'sqlite-vec' && vectorStore !== 'pgvector') {
    throw new ConfigError('SEMANTIC_CACHE_VECTOR_STORE', `expected auto, sqlite-vec or pgvector, got '${vectorStore}'`);
  }
  return { enabled, embedderProvider, embedderModel, threshold, maxConversationMessages, vectorStore };
}
