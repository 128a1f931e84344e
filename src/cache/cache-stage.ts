/**
 * The `cache` pipeline stage: looks the call up by its exact key, then (semantic layer on) by the
 * meaning of its last user message, and answers from the entry without calling the rest of the
 * pipeline; or lets the call through and stores its answer once it is complete (a JSON 200, or a
 * stream that ended properly). Errors, cut streams and abandoned streams are never stored. Store
 * failures never fail a call: lookups then miss and stores are skipped. Response headers: `X-Cache`
 * (`HIT (exact)`, `HIT (semantic)`, `MISS`, `BYPASS`), `Age` and, on semantic hits, `X-Cache-Similarity`.
 * Identical calls at the same time (same exact key, so same tenant) go upstream once per process: a
 * non-streaming call that finds an identical call on its way upstream waits for that call's entry (at most
 * 30 s, or until its client leaves) and is answered from it as an exact hit; when the first call stores
 * nothing (an error, a cut stream), each waiting call goes upstream itself. Streaming calls never wait (they
 * would lose their first byte to a whole answer); `no-store` calls never lead, `no-cache` calls never wait.
 */
import type { Logger } from 'pino';
import type { Operation } from '../core/outcome.ts';
import type { Usage } from '../core/usage.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Stage } from '../pipeline/stage.ts';
import { onStreamEnd } from '../pipeline/stream-end.ts';
import type { Json, Provider, ProviderResult, StreamChunk, StreamResult } from '../providers/types.ts';
import type { CacheConfig } from './cache-config.ts';
import { type CacheControls, readCacheControls } from './cache-controls.ts';
import { type CachedChunk, type CacheEntry, cacheEntryVersion, createChunkRecorder, entryResult, entrySize } from './cache-entry.ts';
import { exactCacheKey } from './cache-key.ts';
import type { CacheMetrics } from './cache-metrics.ts';
import type { CacheStore } from './cache-store.ts';
import type { CacheTargetResolver } from './cache-target.ts';
import type { SemanticLayer, SemanticProbe } from './semantic-layer.ts';

export interface CacheStageOptions {
  config: CacheConfig;
  /** The semantic layer, when SEMANTIC_CACHE_ENABLED. */
  semantic: SemanticLayer | null;
  store: CacheStore;
  resolveTarget: CacheTargetResolver;
  providers: readonly Provider[];
  logger: Logger;
  metrics: CacheMetrics;
  /**
   * Passes a hit through the admission stages (rate limits: Pipeline.admit) before it is answered, so a
   * hit counts against the caller's limits like any call. Absent: hits are answered at once (unit tests).
   */
  admit?: (call: ModelCall, answer: () => Promise<ProviderResult>) => Promise<ProviderResult>;
  now?: () => number;
  /** How long a call waits for an identical call already on its way upstream (default 30 s; then it goes itself). */
  maxFollowerWaitMs?: number;
}

/** `gemini`: the Gemini API's generateContent and embedContent, which carry canonical chat and embeddings bodies. */
const cachedEndpoints = new Set(['chat.completions', 'responses', 'messages', 'embeddings', 'gemini']);

function includeUsage(body: Json): boolean {
  const options = body.stream_options;
  return options !== null && typeof options === 'object' && (options as Json).include_usage === true;
}

/** Calls `complete` with the recorded chunks when the stream ends properly; nothing when it fails or is left. */
function recordStream(
  result: StreamResult,
  operation: Operation,
  maxBytes: number,
  complete: (chunks: CachedChunk[]) => void,
): StreamResult {
  const recorder = createChunkRecorder(operation, maxBytes);
  const source = result.chunks[Symbol.asyncIterator]();
  let open = true;
  const chunks: AsyncIterableIterator<StreamChunk> = {
    [Symbol.asyncIterator]() {
      return chunks;
    },
    async next() {
      let step: IteratorResult<StreamChunk>;
      try {
        step = await source.next();
      } catch (error) {
        open = false;
        throw error;
      }
      if (!open) return step;
      if (step.done) {
        open = false;
        const kept = recorder.complete();
        if (kept) complete(kept);
      } else recorder.add(step.value);
      return step;
    },
    async return(value?: unknown) {
      open = false;
      const step = await source.return?.(value);
      return step ?? { done: true, value: undefined };
    },
  };
  return { ...result, chunks };
}

export function createCacheStage(options: CacheStageOptions): Stage {
  const { config, store, logger, metrics, semantic } = options;
  const now = options.now ?? Date.now;
  const tenantOf = (call: ModelCall) => (config.scope === 'shared' ? '*' : (call.request.keyId ?? 'anonymous'));

  const mark = (call: ModelCall, status: 'miss' | 'bypass') => {
    metrics.lookup(call.endpoint, status);
    call.trace.headers['x-cache'] = status === 'miss' ? 'MISS' : 'BYPASS';
    call.trace.cache = { status };
  };

  async function read(key: string): Promise<CacheEntry | undefined> {
    try {
      return await store.get(key);
    } catch (error) {
      metrics.error('lookup');
      logger.warn({ err: error }, 'response cache: lookup failed; calling the provider');
      return undefined;
    }
  }

  interface Hit {
    result: ProviderResult;
    entry: CacheEntry;
    provider: Provider;
    ageSeconds: number;
  }

  /** The entry as this call's answer, or null when it is too old or cannot serve it. */
  function serve(call: ModelCall, entry: CacheEntry, maxAgeSeconds: number | null): Hit | null {
    const ageSeconds = Math.max(0, Math.floor((now() - entry.createdAt) / 1000));
    if (maxAgeSeconds !== null && ageSeconds > maxAgeSeconds) return null;
    const provider = options.providers.find((candidate) => candidate.name === entry.provider);
    if (!provider) return null;
    const result = entryResult(entry, call.stream, includeUsage(call.body));
    return result ? { result, entry, provider, ageSeconds } : null;
  }

  /**
   * Answers with a hit once the admission stages let it through: a refusal throws as for any call (the
   * record then says the hit was refused; no X-Cache header, no provider).
   */
  async function answer(call: ModelCall, hit: Hit, type: 'exact' | 'semantic', similarity?: number): Promise<ProviderResult> {
    call.trace.cache = { status: 'hit', type };
    const admitted = options.admit ? await options.admit(call, async () => hit.result) : hit.result;
    call.trace.served = { target: { provider: hit.provider, model: hit.entry.model }, operation: hit.entry.operation };
    call.trace.headers['x-cache'] = type === 'exact' ? 'HIT (exact)' : 'HIT (semantic)';
    call.trace.headers.age = String(hit.ageSeconds);
    if (similarity !== undefined) call.trace.headers['x-cache-similarity'] = similarity.toFixed(4);
    metrics.lookup(call.endpoint, type === 'exact' ? 'hit_exact' : 'hit_semantic');
    return admitted;
  }

  /** Stores the entry; resolves when the store has it (or failed to take it), never rejects. */
  function save(key: string, entry: CacheEntry, probe: SemanticProbe | null): Promise<void> {
    const size = entrySize(entry);
    if (size > config.maxEntryBytes) return Promise.resolve();
    return store.set(key, entry, size).then(
      () => {
        metrics.stored(entry.endpoint);
        if (probe) semantic?.remember(probe, key, entry.expiresAt);
      },
      (error: unknown) => {
        metrics.error('store');
        logger.warn({ err: error }, 'response cache: could not store an entry');
      },
    );
  }

  /** Keys with a call on its way upstream that will store its answer, and what its followers wait for. */
  const leaders = new Map<string, Promise<void>>();
  const maxFollowerWaitMs = options.maxFollowerWaitMs ?? 30_000;
  const maxLeaders = 10_000;

  /** Makes this call the leader for `key`; the function returned ends that (once its entry is stored or known to be none). */
  function lead(key: string): (() => void) | undefined {
    // Bounded: a leader whose stream is never consumed nor closed would otherwise stay (its followers stop waiting anyway).
    if (leaders.has(key) || leaders.size >= maxLeaders) return undefined;
    let resolve: () => void = () => {};
    const settled = new Promise<void>((done) => {
      resolve = done;
    });
    leaders.set(key, settled);
    return () => {
      if (leaders.get(key) === settled) leaders.delete(key);
      resolve();
    };
  }

  /**
   * When another call with the same key is on its way upstream: waits for it (at most maxFollowerWaitMs, or
   * until this client leaves) and returns its entry as a hit; null when there is no leader or it stored nothing.
   */
  async function afterLeader(call: ModelCall, key: string, maxAgeSeconds: number | null): Promise<Hit | null> {
    const leader = leaders.get(key);
    if (!leader) return null;
    const signal = call.context.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const waited = await Promise.race([
      leader.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), maxFollowerWaitMs);
        onAbort = () => resolve(false);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (!waited) return null;
    const entry = await read(key);
    return (entry && serve(call, entry, maxAgeSeconds)) || null;
  }

  return {
    name: 'cache',
    async handle(call, next) {
      if (!cachedEndpoints.has(call.endpoint)) return next(call);
      // A workflow switched the cache off for this call.
      if (call.trace.policy?.cache === false) {
        mark(call, 'bypass');
        return next(call);
      }
      const controls = readCacheControls(call.request.headers);
      const useExact = config.exactEnabled && controls.exact;
      const useSemantic = semantic !== null && controls.semantic && !call.operations.includes('embeddings');
      if ((!useExact && !useSemantic) || (!controls.lookup && !controls.store)) {
        mark(call, 'bypass');
        return next(call);
      }
      const target = await options.resolveTarget(call.requestedModel);
      if (target === null) return next(call);
      const tenant = tenantOf(call);
      const policyVersion = call.trace.policyVersion ?? null;
      const key = exactCacheKey({ endpoint: call.endpoint, target, tenant, body: call.body, policyVersion });
      if (controls.lookup && useExact) {
        const entry = await read(key);
        const hit = entry && serve(call, entry, controls.maxAgeSeconds);
        if (hit) return answer(call, hit, 'exact');
      }
      const probe = useSemantic ? await semantic.probe(call, { target, tenant, policyVersion }) : null;
      if (controls.lookup && probe) {
        for (const match of (await semantic?.matches(probe)) ?? []) {
          const entry = await read(match.entryKey);
          const hit = entry && serve(call, entry, controls.maxAgeSeconds);
          if (hit) return answer(call, hit, 'semantic', match.similarity);
        }
      }
      // Identical calls at the same time: one goes upstream, the others (JSON answers) wait for its entry.
      if (controls.lookup && useExact && !call.stream) {
        const hit = await afterLeader(call, key, controls.maxAgeSeconds);
        if (hit) return answer(call, hit, 'exact');
      }
      mark(call, controls.lookup ? 'miss' : 'bypass');
      const release = controls.store ? lead(key) : undefined;
      let result: ProviderResult;
      try {
        result = await next(call);
      } catch (error) {
        release?.();
        throw error;
      }
      return storeAnswer(call, key, tenant, controls, result, probe, release);
    },
  };

  /**
   * Stores what passes (a JSON 200, a stream that ends properly) and returns the result to send. `release`
   * (a leader's) runs once the entry is stored, or once it is clear there is none (errors, cut or abandoned
   * streams); a stream gets the extra end hook only then.
   */
  function storeAnswer(
    call: ModelCall,
    key: string,
    tenant: string,
    controls: CacheControls,
    result: ProviderResult,
    probe: SemanticProbe | null,
    release: (() => void) | undefined,
  ): ProviderResult {
    const served = call.trace.served;
    if (!controls.store || !served || result.status !== 200) {
      release?.();
      return result;
    }
    const createdAt = now();
    const entry = (usage: Usage | null, answer: Pick<CacheEntry, 'jsonText' | 'chunks'>): CacheEntry => ({
      v: cacheEntryVersion,
      endpoint: call.endpoint,
      tenant,
      requestedModel: call.requestedModel,
      provider: served.target.provider.name,
      model: served.target.model,
      operation: served.operation,
      createdAt,
      expiresAt: createdAt + (controls.ttlSeconds ?? config.ttlSeconds) * 1000,
      usage,
      ...answer,
    });
    if (result.kind === 'json') {
      // The answer's text once: the upstream's own bytes, or serialized here and then also sent as the
      // reply (so the route does not serialize the body a second time).
      const jsonText = result.rawBody ?? JSON.stringify(result.body);
      const saved = save(key, entry(result.usage, { jsonText }), probe);
      if (release) saved.then(release);
      return result.rawBody === undefined ? { ...result, rawBody: jsonText } : result;
    }
    let saved: Promise<void> | undefined;
    const recorded = recordStream(result, served.operation, config.maxEntryBytes, (chunks) => {
      saved = save(key, entry(result.usage(), { chunks }), probe);
    });
    if (!release) return recorded;
    return onStreamEnd(recorded, () => {
      (saved ?? Promise.resolve()).then(release);
    });
  }
}
