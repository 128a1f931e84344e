/**
 * Composes the registered stages, in the order of stage-order.ts, around the terminal dispatch.
 * The chain is built once (when the gateway starts listening, or on first use); each call then runs
 * through plain function calls, with nothing on the path for stages that are not registered. Opaque calls
 * (passthrough) run a second chain of the `opaqueStages` only, ending in the call's own relay; answers
 * given without the upstream (cache hits) a third, of the `admissionStages`, ending in that answer.
 */
import type { ProviderResult } from '../providers/types.ts';
import type { ModelCall } from './model-call.ts';
import type { Next, Stage } from './stage.ts';
import { admissionStages, isStageName, opaqueStages, type StageName, stageOrder } from './stage-order.ts';

/** The end of an opaque call's chain: its own relay. */
const relay: Next = (call) => (call.relay as NonNullable<ModelCall['relay']>)(call);

export interface Pipeline {
  /** Adds a stage; only before the first call. Its name must be one of stage-order.ts. */
  use(stage: Stage): void;
  run(call: ModelCall): Promise<ProviderResult>;
  /**
   * Passes a call that is answered without the upstream (a cache hit) through the admission stages
   * (rate limits), then returns `answer(call)`; a refusal throws as it would for any call.
   */
  admit(call: ModelCall, answer: Next): Promise<ProviderResult>;
  /** Names of the stages in the chain, in order (for diagnostics and tests). */
  stageNames(): string[];
}

export function createPipeline(terminal: Next): Pipeline {
  const registered = new Map<string, Stage>();
  let chain: Next | null = null;
  let opaqueChain: Next | null = null;
  let admissionStarted = false;

  function build(end: Next, include: (name: StageName) => boolean): Next {
    let next = end;
    for (let index = stageOrder.length - 1; index >= 0; index--) {
      const name = stageOrder[index] as StageName;
      const stage = include(name) ? registered.get(name) : undefined;
      if (!stage) continue;
      const inner = next;
      next = (call) => stage.handle(call, inner);
    }
    return next;
  }

  return {
    use(stage) {
      if (chain || opaqueChain || admissionStarted) throw new Error(`pipeline stage '${stage.name}' registered after the pipeline started`);
      if (!isStageName(stage.name)) throw new Error(`unknown pipeline stage '${stage.name}' (see src/pipeline/stage-order.ts)`);
      if (registered.has(stage.name)) throw new Error(`pipeline stage '${stage.name}' registered twice`);
      registered.set(stage.name, stage);
    },
    run(call) {
      if (call.relay) {
        opaqueChain ??= build(relay, (name) => opaqueStages.has(name));
        return opaqueChain(call);
      }
      chain ??= build(terminal, () => true);
      return chain(call);
    },
    admit(call, answer) {
      // Built per call around its own answer: at most a few stages, a handful of closures.
      admissionStarted = true;
      return build(answer, (name) => admissionStages.has(name))(call);
    },
    stageNames() {
      return stageOrder.filter((name) => registered.has(name));
    },
  };
}
