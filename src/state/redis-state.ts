/**
 * The Redis shared state (REDIS_URL), for several gateway replicas. Multi-key operations are Lua
 * scripts (redis-scripts.ts), run by SHA with the source sent once per connection. Commands fail fast
 * while Redis is unreachable (no offline queue, a command timeout): callers apply their fail mode, and
 * the client reconnects by itself. Invalidation messages use Redis pub/sub on a second connection.
 */
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { consumeScript, releaseScript, reserveScript, settleScript } from './redis-scripts.ts';
import {
  checkAmount,
  type ReserveResult,
  type SharedState,
  stateUnavailable,
  type WindowEntry,
  type WindowResult,
} from './shared-state.ts';

export interface RedisStateOptions {
  url: string;
  /** Prefix of every key and channel (REDIS_KEY_PREFIX, default `modelgate:`). */
  prefix?: string;
  /** Per-command timeout, ms. */
  commandTimeoutMs?: number;
  /** How long start waits for the first connection before going on unavailable (ms). */
  connectWaitMs?: number;
  onError?: (error: unknown) => void;
}

interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const scripts = {
  consume: script(consumeScript),
  reserve: script(reserveScript),
  settle: script(settleScript),
  release: script(releaseScript),
};

function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 5), 1000);
}

export async function createRedisState(options: RedisStateOptions): Promise<SharedState> {
  const prefix = options.prefix ?? 'modelgate:';
  const onError = options.onError ?? (() => {});
  const clientOptions = {
    url: options.url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: 2000 },
  };
  const connection = createClient(clientOptions);
  const subscriber = connection.duplicate();
  const client = connection.withCommandOptions({ timeout: options.commandTimeoutMs ?? 2000 });

  let available = false;
  let closed = false;
  const availabilityListeners = new Set<(available: boolean) => void>();
  const setAvailable = (value: boolean) => {
    if (available === value || closed) return;
    available = value;
    for (const listener of availabilityListeners) listener(value);
  };
  connection.on('ready', () => setAvailable(true));
  connection.on('end', () => setAvailable(false));
  connection.on('reconnecting', () => setAvailable(false));
  connection.on('error', (error: unknown) => {
    setAvailable(false);
    onError(error);
  });
  // The subscriber reconnects and resubscribes by itself; its errors are the same outage.
  subscriber.on('error', () => {});

  const waitForConnection = (promise: Promise<unknown>) =>
    Promise.race([promise.then(() => true), new Promise((resolve) => setTimeout(resolve, options.connectWaitMs ?? 5000, false).unref())]);
  await waitForConnection(Promise.all([connection.connect(), subscriber.connect()]).catch(() => false));

  const run = async (which: Script, keys: string[], args: (string | number)[]): Promise<unknown> => {
    if (!connection.isReady) throw stateUnavailable();
    const call = { keys: keys.map((key) => prefix + key), arguments: args.map(String) };
    try {
      try {
        return await client.evalSha(which.sha, call);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await client.eval(which.source, call);
      }
    } catch (error) {
      throw stateUnavailable(error);
    }
  };
  const guard = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (!connection.isReady) throw stateUnavailable();
    try {
      return await operation();
    } catch (error) {
      throw stateUnavailable(error);
    }
  };
  const counterReply = (reply: unknown): ReserveResult => {
    const values = (reply as (number | string)[]).map(Number);
    const granted = values[0] === 1;
    return { granted, totals: values.slice(2), refusedIndex: granted ? null : (values[1] as number) - 1 };
  };
  const windowReply = (reply: unknown, limits: number[]): WindowResult => {
    const values = (reply as (number | string)[]).map(Number);
    return {
      allowed: values[0] === 1,
      retryAfterMs: values[1] as number,
      windows: limits.map((limit, index) => ({
        limit,
        remaining: values[2 + index * 2] as number,
        resetMs: values[3 + index * 2] as number,
      })),
    };
  };
  const windows = async (entries: WindowEntry[], force: boolean): Promise<WindowResult> => {
    const args: (string | number)[] = [force ? 1 : 0];
    for (const entry of entries) args.push(entry.windowMs, entry.limit, entry.cost);
    const reply = await run(
      scripts.consume,
      entries.map((entry) => `window:${entry.key}`),
      args,
    );
    return windowReply(
      reply,
      entries.map((entry) => entry.limit),
    );
  };
  const listenersByChannel = new Map<string, Set<(message: string) => void>>();

  return {
    kind: 'redis',
    get available() {
      return available;
    },
    onAvailabilityChange(listener) {
      availabilityListeners.add(listener);
      return () => availabilityListeners.delete(listener);
    },
    async consume(entries, consumeOptions) {
      for (const entry of entries) checkAmount('cost', entry.cost);
      return windows(entries, consumeOptions?.force ?? false);
    },
    async peek(entries) {
      return windows(
        entries.map((entry) => ({ ...entry, cost: 0 })),
        false,
      );
    },
    async reserve(entries, ttlMs) {
      const args: (string | number)[] = [Math.ceil(ttlMs)];
      for (const entry of entries) {
        checkAmount('amount', entry.amount);
        args.push(entry.amount, entry.limit);
      }
      return counterReply(
        await run(
          scripts.reserve,
          entries.map((entry) => `counter:${entry.key}`),
          args,
        ),
      );
    },
    async settle(entries, ttlMs) {
      for (const entry of entries) checkAmount('delta', entry.delta);
      const reply = await run(
        scripts.settle,
        entries.map((entry) => `counter:${entry.key}`),
        [Math.ceil(ttlMs), ...entries.map((entry) => entry.delta)],
      );
      return (reply as number[]).map(Number);
    },
    async counters(keys) {
      if (keys.length === 0) return [];
      const values = await guard(() => client.mGet(keys.map((key) => `${prefix}counter:${key}`)));
      return values.map((value) => (value === null ? 0 : Number(value)));
    },
    async acquire(entries, ttlMs) {
      const args: (string | number)[] = [Math.ceil(ttlMs)];
      for (const entry of entries) args.push(1, entry.limit);
      return counterReply(
        await run(
          scripts.reserve,
          entries.map((entry) => `slot:${entry.key}`),
          args,
        ),
      );
    },
    async release(keys) {
      await run(
        scripts.release,
        keys.map((key) => `slot:${key}`),
        [],
      );
    },
    async slots(keys) {
      if (keys.length === 0) return [];
      const values = await guard(() => client.mGet(keys.map((key) => `${prefix}slot:${key}`)));
      return values.map((value) => (value === null ? 0 : Math.max(0, Number(value))));
    },
    async get(key) {
      const value = await guard(() => client.get(`${prefix}value:${key}`));
      return value ?? undefined;
    },
    async set(key, value, ttlMs) {
      await guard(() => client.set(`${prefix}value:${key}`, value, { expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) } }));
    },
    async delete(key) {
      await guard(() => client.del(`${prefix}value:${key}`));
    },
    async publish(channel, message) {
      await guard(() => client.publish(`${prefix}${channel}`, message));
    },
    async subscribe(channel, listener) {
      const name = `${prefix}${channel}`;
      let set = listenersByChannel.get(name);
      if (!set) {
        const created = new Set<(message: string) => void>();
        set = created;
        listenersByChannel.set(name, created);
        await guard(() =>
          subscriber.subscribe(name, (message) => {
            for (const each of created) each(message);
          }),
        );
      }
      set.add(listener);
      return async () => {
        set.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      availabilityListeners.clear();
      await Promise.allSettled([connection.close(), subscriber.close()]);
    },
  };
}
