/**
 * Picks one target of a virtual model (one name, several `provider/model` targets) by its strategy
 * (target-selection.ts), skipping targets that are unavailable (target-health.ts: open circuits,
 * exhausted key pools) or not served, optionally keeping a session on the target it had
 * (`x-modelgate-session-id` header, else the request's `user`). The choice is in the response header
 * `x-modelgate-virtual-model` (`name=provider/model`).
 */
import { GatewayError } from '../../core/errors.ts';
import type { ModelRegistry, ResolvedModel } from '../../core/model-registry.ts';
import { headerValue } from '../../http/types.ts';
import type { ModelCall } from '../../pipeline/model-call.ts';
import type { Next, Stage } from '../../pipeline/stage.ts';
import { onResultEnd } from '../../pipeline/stream-end.ts';
import type { ProviderResult } from '../../providers/types.ts';
import type { RoutingCatalog } from '../routing-catalog.ts';
import type { TargetHealth } from '../target-health.ts';
import type { TargetSelector } from '../target-selection.ts';
import type { TargetStats } from '../target-stats.ts';
import { followAliases } from './alias-stage.ts';

export interface VirtualModelStageOptions {
  catalog: RoutingCatalog;
  registry: ModelRegistry;
  selector: TargetSelector;
  stats: TargetStats;
  health: TargetHealth;
  /** Sessions remembered for affinity (oldest forgotten first). */
  maxSessions?: number;
  sessionTtlMs?: number;
}

function sessionOf(call: ModelCall): string | null {
  const header = headerValue(call.request.headers, 'x-modelgate-session-id');
  if (header) return header.slice(0, 256);
  return typeof call.body.user === 'string' && call.body.user !== '' ? call.body.user.slice(0, 256) : null;
}

export function createVirtualModelStage(options: VirtualModelStageOptions): Stage {
  const { catalog, registry, selector, stats, health } = options;
  const maxSessions = options.maxSessions ?? 10_000;
  const sessionTtlMs = options.sessionTtlMs ?? 3_600_000;
  /** `virtual\u0000session` -> target model name and when it was last used; insertion order = age. */
  const sessions = new Map<string, { model: string; usedAt: number }>();

  function remember(key: string, model: string): void {
    sessions.delete(key);
    sessions.set(key, { model, usedAt: Date.now() });
    while (sessions.size > maxSessions) {
      const oldest = sessions.keys().next().value;
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
  }

  async function choose(name: string, call: ModelCall): Promise<{ model: string; target: ResolvedModel }> {
    const definition = catalog.virtualModel(name);
    if (!definition) throw new Error(`virtual model '${name}' vanished`);
    let ordered = selector.order(name, definition.strategy, definition.targets).map((target) => target.model);
    const session = definition.session_affinity ? sessionOf(call) : null;
    const sessionKey = session === null ? null : `${name}\u0000${session}`;
    if (sessionKey) {
      const sticky = sessions.get(sessionKey);
      if (sticky && Date.now() - sticky.usedAt < sessionTtlMs && ordered.includes(sticky.model)) {
        ordered = [sticky.model, ...ordered.filter((model) => model !== sticky.model)];
      }
    }
    let unavailable: { model: string; target: ResolvedModel } | null = null;
    for (const model of ordered) {
      const target = await registry.resolve(followAliases(catalog, model));
      if (!target) continue;
      if (!health.available(target.provider.name, target.model)) {
        unavailable ??= { model, target };
        continue;
      }
      if (sessionKey) remember(sessionKey, model);
      return { model, target };
    }
    // Every target is unavailable: go to the first anyway, so its own error (open circuit...) is what the client sees.
    if (unavailable) return unavailable;
    throw new GatewayError(`No target of the virtual model '${name}' is served by a configured provider`, {
      status: 404,
      code: 'model_not_found',
      param: 'model',
      retryable: false,
    });
  }

  return {
    name: 'virtual-model',
    handle(call, next) {
      // Not a virtual model: straight through, without a promise of this stage's own.
      if (catalog.virtualModel(call.requestedModel) === undefined) return next(call);
      return routeVirtual(call, next);
    },
  };

  async function routeVirtual(call: ModelCall, next: Next): Promise<ProviderResult> {
    const name = call.requestedModel;
    const { model, target } = await choose(name, call);
    call.trace.headers['x-modelgate-virtual-model'] = `${name}=${target.provider.name}/${target.model}`;
    stats.begin(model);
    const startedAt = performance.now();
    let result: ProviderResult;
    try {
      result = await next({ ...call, requestedModel: model, target });
    } catch (error) {
      stats.end(model, null);
      throw error;
    }
    // Latency = time to the first content: the whole answer for JSON, the first chunk of a stream.
    let latencyMs: number | null = null;
    return onResultEnd(
      result,
      () => stats.end(model, latencyMs),
      () => {
        latencyMs = performance.now() - startedAt;
      },
    );
  }
}
