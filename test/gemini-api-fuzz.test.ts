/**
 * Malformed Gemini API requests (seeded, so a failure replays) against generateContent, the two streaming
 * forms and the embeddings methods, over the OpenAI, Anthropic and Gemini providers: every answer is a
 * success or a Google-shaped error ({"error":{"code","message","status"}}), never a 500, a crash or a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from './helpers/seeded-random.ts';
import { startThreeProviderGateway, type ThreeProviderGateway } from './helpers/three-provider-gateway.ts';

let gateway: ThreeProviderGateway;

beforeAll(async () => {
  gateway = await startThreeProviderGateway();
});

afterAll(async () => {
  await gateway?.close();
});

const odd: unknown[] = [null, true, 0, -1, 1.5, '', 'x', 'OBJECT', [], [null], {}, { a: 1 }, [[]], { text: null }, { parts: [] }];
const keys = ['role', 'parts', 'text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'name', 'args', 'response', 'id', 'mimeType', 'data', 'fileUri', 'thought', 'thoughtSignature', 'type', 'properties', 'nullable', 'items'];

function value(random: () => number, depth: number): unknown {
  const pick = random();
  if (depth <= 0 || pick < 0.5) return odd[Math.floor(random() * odd.length)];
  if (pick < 0.75) return Array.from({ length: Math.floor(random() * 3) }, () => value(random, depth - 1));
  const object: Record<string, unknown> = {};
  for (let index = 0; index < 1 + Math.floor(random() * 4); index++) object[keys[Math.floor(random() * keys.length)] ?? 'x'] = value(random, depth - 1);
  return object;
}

function pick<T>(random: () => number, items: T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function part(random: () => number): unknown {
  return pick(random, [
    { text: 'hi' },
    { text: value(random, 1) },
    { inlineData: { mimeType: pick(random, ['image/png', 'audio/wav', 7]), data: pick(random, ['iVBORw0KGgo=', 3, null]) } },
    { fileData: { fileUri: pick(random, ['https://example.com/a.png', 'gs://b/c', 5]) } },
    { functionCall: { name: pick(random, ['f', '', 3]), args: value(random, 2) } },
    { functionResponse: { name: pick(random, ['f', 'g', null]), response: value(random, 2) } },
    value(random, 2),
  ]);
}

function body(random: () => number, embed: boolean): Record<string, unknown> {
  if (embed) {
    const request = () => (random() < 0.5 ? { content: { parts: Array.from({ length: 1 + Math.floor(random() * 2) }, () => part(random)) } } : value(random, 3));
    return random() < 0.5 ? { requests: random() < 0.7 ? Array.from({ length: Math.floor(random() * 3) }, request) : value(random, 2) } : (request() as Record<string, unknown>);
  }
  const result: Record<string, unknown> = {};
  result.contents =
    random() < 0.6
      ? Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ role: pick(random, ['user', 'model', 'function', 'x', undefined]), parts: Array.from({ length: 1 + Math.floor(random() * 3) }, () => part(random)) }))
      : value(random, 3);
  if (random() < 0.3) result.systemInstruction = random() < 0.5 ? { parts: [{ text: 'be brief' }] } : value(random, 2);
  if (random() < 0.3) result.tools = random() < 0.5 ? [{ functionDeclarations: [{ name: pick(random, ['f', '', 1]), parameters: value(random, 3) }] }] : value(random, 2);
  if (random() < 0.2) result.toolConfig = random() < 0.5 ? { functionCallingConfig: { mode: pick(random, ['ANY', 'AUTO', 'NONE', 'BOGUS', 3]), allowedFunctionNames: value(random, 1) } } : value(random, 2);
  if (random() < 0.3) result.generationConfig = random() < 0.5 ? { temperature: value(random, 0), maxOutputTokens: value(random, 0), stopSequences: value(random, 1), responseSchema: value(random, 3), thinkingConfig: value(random, 2) } : value(random, 2);
  return result;
}

const models = ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'];
const actions = ['generateContent', 'streamGenerateContent?alt=sse', 'streamGenerateContent', 'batchEmbedContents', 'embedContent'];

describe('seeded malformed Gemini API requests', () => {
  it('answers 200 malformed bodies with successes or Google-shaped errors, never a 500', async () => {
    const random = createRandom((Number(process.env.FUZZ_SEED ?? 0) * 104_729 + 12) * 7919);
    const statuses = new Map<number, number>();
    for (let index = 0; index < 200; index++) {
      const action = actions[index % actions.length] as string;
      const embed = action.includes('mbed');
      const model = embed ? pick(random, ['text-embedding-3-small', 'gemini-embedding-001']) : (models[index % models.length] as string);
      const payload = body(random, embed);
      const response = await fetch(`${gateway.running.url}/v1beta/models/${model}:${action}`, { method: 'POST', body: JSON.stringify(payload), signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const context = `${model}:${action} #${index} ${JSON.stringify(payload)} -> ${response.status} ${text.slice(0, 300)}`;
      expect(response.status, context).not.toBe(500);
      if (response.status >= 400) {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; status?: unknown } };
        expect(parsed.error?.code, context).toBe(response.status);
        expect(typeof parsed.error?.message, context).toBe('string');
        expect(typeof parsed.error?.status, context).toBe('string');
      }
    }
    if (process.env.FUZZ_REPORT) console.log(Object.fromEntries(statuses));
    expect([...statuses.keys()].some((status) => status >= 400 && status < 500)).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  });
});
