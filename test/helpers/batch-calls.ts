/**
 * Calls the batch tests make against a running gateway: create a batch (raw POST, to see errors), wait for
 * it to finish, fetch its OpenAI output lines, and read the usage rows recorded for it.
 */
import type { Kysely } from 'kysely';
import type OpenAI from 'openai';
import type { RunningGateway } from './start-gateway.ts';

export interface BatchUsageRow {
  id: string;
  model: string | null;
  provider: string;
  status: number;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_usd: number | string | null;
}

export interface BatchOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string | null; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

/** One inline request of the gateway's `requests` extension. */
export function batchRequest(customId: string, model: string, text: string, extra: Record<string, unknown> = {}) {
  return { custom_id: customId, body: { model, messages: [{ role: 'user', content: text }], ...extra } };
}

/** `current` gives the gateway and client of the moment (tests restart the gateway). */
export function createBatchCalls(current: () => { running: RunningGateway; client: OpenAI }, masterKey: string) {
  const headers = { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' };
  return {
    headers,
    usageOf: async (batchId: string): Promise<BatchUsageRow[]> =>
      (current().running.gateway.storage!.db as unknown as Kysely<{ usage: BatchUsageRow & { request_id: string } }>)
        .selectFrom('usage')
        .selectAll()
        .where('request_id', '=', batchId)
        .execute(),
    async results(batchId: string) {
      const response = await fetch(`${current().running.url}/v1/batches/${batchId}/results`, { headers });
      const text = await response.text();
      const lines =
        response.ok && text.trim() !== ''
          ? text
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as BatchOutputLine)
          : [];
      return { status: response.status, text, lines, byId: new Map(lines.map((line) => [line.custom_id, line])) };
    },
    async finished(id: string) {
      for (let tries = 0; tries < 200; tries++) {
        const batch = await current().client.batches.retrieve(id);
        if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) return batch;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`batch ${id} did not finish`);
    },
    async post(body: unknown) {
      const response = await fetch(`${current().running.url}/v1/batches`, { method: 'POST', headers, body: JSON.stringify(body) });
      return {
        status: response.status,
        body: (await response.json()) as { error: { message: string; code: string; type: string; param: string | null } },
      };
    },
  };
}
