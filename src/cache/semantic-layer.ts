/**
 * The semantic layer of the cache: embeds the last user message with the configured embedder (one of
 * the gateway's own providers, called directly), looks for the nearest stored prompts of the same
 * scope (endpoint, target, tenant, policy version, every other parameter, and the earlier turns), and
 * accepts the nearest one at or above the threshold whose prompt passes the guard (negations and
 * numbers agree) and whose answer is still in the store. Any embedding or search failure makes the
 * layer step aside (the call goes on as a miss).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { toGatewayError } from '../core/errors.ts';
import type { Usage } from '../core/usage.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Json, Provider } from '../providers/types.ts';
import { canonicalJson } from './cache-key.ts';
import { promptsAgree } from './semantic-guard.ts';
import type { SemanticCacheConfig } from './semantic-config.ts';
import { semanticParameters, semanticText } from './semantic-text.ts';
import type { VectorStore } from './vector-store.ts';

export interface SemanticProbe {
  scope: string;
  prompt: string;
  embedding: number[];
}

export interface SemanticMatch {
  entryKey: string;
  similarity: number;
}

export interface SemanticLayer {
  /** Where the vectors are (sqlite-vec or pgvector). */
  readonly vectorStore: VectorStore['kind'];
  /** Embeds the call's prompt; null when the call is not eligible or the embedder failed. */
  probe(call: ModelCall, scope: { target: string; tenant: string; policyVersion: string | null }): Promise<SemanticProbe | null>;
  /** Candidates at or above the threshold that pass the guard, nearest first. */
  matches(probe: SemanticProbe): Promise<SemanticMatch[]>;
  remember(probe: SemanticProbe, entryKey: string, expiresAt: number): void;
  purge(): Promise<void>;
}

/** One call of the embedder on behalf of a model call. */
export interface EmbedderCall {
  call: ModelCall;
  startedAt: Date;
  latencyMs: number;
  status: number;
  usage: Usage | null;
  error: { code: string; message: string } | null;
}

const candidates = 4;

function readEmbedding(body: Json): number[] | null {
  const first = Array.isArray(body.data) ? (body.data[0] as Json | undefined) : undefined;
  const embedding = first?.embedding;
  if (!Array.isArray(embedding) || embedding.length === 0) return null;
  for (const value of embedding) if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return embedding as number[];
}

export function createSemanticLayer(options: {
  config: SemanticCacheConfig;
  embedder: Provider;
  vectors: VectorStore;
  logger: Logger;
  /** A failure the call went on without: embedding, or the vector store (search, insert). */
  onError: (operation: 'embed' | 'vector') => void;
  /** Every embedder call, answered or failed, to be recorded as a usage row of its own (cost counted). */
  onEmbedded?: (embedded: EmbedderCall) => void;
}): SemanticLayer {
  const { config, embedder, vectors, logger } = options;
  const fail = (what: string, error: unknown) => {
    options.onError(what === 'embedding' ? 'embed' : 'vector');
    logger.warn({ err: error }, `semantic cache: ${what} failed; going on without it`);
  };
  return {
    vectorStore: vectors.kind,
    async probe(call, scope) {
      const text = semanticText(call.endpoint, call.body, config.maxConversationMessages);
      if (!text) return null;
      const scopeKey = createHash('sha256')
        .update(
          canonicalJson({
            endpoint: call.endpoint,
            target: scope.target,
            tenant: scope.tenant,
            policy: scope.policyVersion,
            context: text.context,
            parameters: semanticParameters(call.endpoint, call.body),
            embedder: `${config.embedderProvider}/${config.embedderModel}`,
          }),
        )
        .digest('hex');
      const startedAt = new Date();
      const started = performance.now();
      const embedded = (status: number, usage: Usage | null, error: EmbedderCall['error']) =>
        options.onEmbedded?.({ call, startedAt, latencyMs: performance.now() - started, status, usage, error });
      try {
        let result: Awaited<ReturnType<Provider['embeddings']>>;
        try {
          result = await embedder.embeddings(
            { model: config.embedderModel, input: text.prompt },
            { requestId: call.context.requestId, signal: call.context.signal, droppedParams: [] },
          );
        } catch (error) {
          const failure = toGatewayError(error);
          embedded(failure.status, null, { code: failure.code, message: failure.message });
          throw error;
        }
        embedded(
          result.status,
          result.usage,
          result.status === 200 ? null : { code: 'embedder_error', message: `the embedder answered ${result.status}` },
        );
        const embedding = result.status === 200 ? readEmbedding(result.body) : null;
        if (!embedding) throw new Error('the embedder answered without an embedding');
        return { scope: scopeKey, prompt: text.prompt, embedding };
      } catch (error) {
        fail('embedding', error);
        return null;
      }
    },
    async matches(probe) {
      try {
        const found = await vectors.search(probe.scope, probe.embedding, candidates);
        return found
          .filter((match) => match.similarity >= config.threshold && promptsAgree(match.prompt, probe.prompt))
          .map((match) => ({ entryKey: match.entryKey, similarity: match.similarity }));
      } catch (error) {
        fail('vector search', error);
        return [];
      }
    },
    remember(probe, entryKey, expiresAt) {
      vectors
        .insert({ scope: probe.scope, embedding: probe.embedding, entryKey, prompt: probe.prompt, expiresAt })
        .catch((error: unknown) => fail('vector insert', error));
    },
    purge: () => vectors.purge(),
  };
}
