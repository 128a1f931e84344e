/**
 * The shared-state backends every shared-state test runs against: the embedded store (SQLite in a
 * temporary directory) and the real Redis server (REDIS_URL, default redis://127.0.0.1:6379) under a key
 * prefix unique to the run, whose keys are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { createEmbeddedState } from '../../src/state/embedded-state.ts';
import { createRedisState } from '../../src/state/redis-state.ts';
import type { SharedState } from '../../src/state/shared-state.ts';

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface StateBackend {
  name: 'embedded' | 'redis';
  /** Environment that points a gateway at this backend's store. */
  env: Record<string, string>;
  /** Opens one more handle on the same store (another replica, or a restart for the embedded one). */
  open(): Promise<SharedState>;
  cleanup(): Promise<void>;
}

export function uniqueRedisPrefix(): string {
  return `modelgate-test-${process.pid}-${randomBytes(4).toString('hex')}:`;
}

export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}

export function createStateBackend(name: 'embedded' | 'redis'): StateBackend {
  const opened: SharedState[] = [];
  if (name === 'embedded') {
    const directory = mkdtempSync(join(tmpdir(), 'modelgate-state-'));
    const sqlitePath = join(directory, 'state.db');
    return {
      name,
      env: { STATE_SQLITE_PATH: sqlitePath },
      async open() {
        const state = createEmbeddedState({ sqlitePath });
        opened.push(state);
        return state;
      },
      async cleanup() {
        await Promise.all(opened.map((state) => state.close()));
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  const prefix = uniqueRedisPrefix();
  return {
    name,
    env: { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix },
    async open() {
      const state = await createRedisState({ url: redisUrl, prefix });
      opened.push(state);
      return state;
    },
    async cleanup() {
      await Promise.all(opened.map((state) => state.close()));
      await deleteRedisPrefix(redisUrl, prefix);
    },
  };
}
