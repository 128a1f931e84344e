/**
 * Composes the registered stages, in the order of stage-order.ts, around the terminal dispatch.
 * The chain is built once (when the gateway starts listening, or on first use); each call then runs
 * through plain function calls, with nothing on the path for stages that are not registered.
 */
import type { ProviderResult } from '../providers/types.ts';
import type { ModelCall } from './model-call.ts';
import type { Next, Stage } from './stage.ts';
import { isStageName, stageOrder } from './stage-order.ts';

export interface Pipeline {
  /** Adds a stage; only before the first call. Its name must be one of stage-order.ts. */
  use(stage: Stage): void;
  run(call: ModelCall): Promise<ProviderResult>;
  /** Names of the stages in the chain, in order (for diagnostics and tests). */
  stageNames(): string[];
}

export function createPipeline(terminal: Next): Pipeline {
  const registered = new Map<string, Stage>();
  let chain: Next | null = null;

  function build(): Next {
    let next = terminal;
    for (let index = stageOrder.length - 1; index >= 0; index--) {
      const stage = registered.get(stageOrder[index] as string);
      if (!stage) continue;
      const inner = next;
      next = (call) => stage.handle(call, inner);
    }
    return next;
  }

  return {
    use(stage) {
      if (chain) throw new Error(`pipeline stage '${stage.name}' registered after the pipeline started`);
      if (!isStageName(stage.name)) throw new Error(`unknown pipeline stage '${stage.name}' (see src/pipeline/stage-order.ts)`);
      if (registered.has(stage.name)) throw new Error(`pipeline stage '${stage.name}' registered twice`);
      registered.set(stage.name, stage);
    },
    run(call) {
      chain ??= build();
      return chain(call);
    },
    stageNames() {
      return stageOrder.filter((name) => registered.has(name));
    },
  };
}
