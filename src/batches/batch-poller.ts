/**
 * Checks unsettled batches with their provider every BATCH_POLL_INTERVAL, so a batch's usage is recorded when it
 * finishes even if nobody fetches it. Replicas may poll the same batch: recording is idempotent
 * (src/batches/batch-usage.ts). One run at a time per process; a failing batch is logged and tried next time.
 */
import type { Logger } from 'pino';
import type { BatchService } from './batch-service.ts';
import type { BatchStore } from './batch-store.ts';

export interface BatchPoller {
  /** One pass over the unsettled batches (the timer calls it; tests may too). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

const batchesPerRun = 50;

export function createBatchPoller(options: { store: BatchStore; service: BatchService; intervalMs: number; logger: Logger }): BatchPoller {
  let running: Promise<void> | null = null;
  let stopped = false;
  async function pass(): Promise<void> {
    for (const batch of await options.store.unsettled(batchesPerRun)) {
      if (stopped) return;
      try {
        await options.service.refresh(batch);
      } catch (error) {
        options.logger.warn(
          { batch: batch.id, reason: error instanceof Error ? error.message : String(error) },
          'could not check a batch with its provider',
        );
      }
    }
  }
  const runOnce = (): Promise<void> => {
    running ??= pass()
      .catch((error: unknown) =>
        options.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'batch poll failed'),
      )
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = options.intervalMs > 0 ? setInterval(() => void runOnce(), options.intervalMs) : null;
  timer?.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
