/**
 * Input guardrails on the Gemini API inbound (through @google/genai): the call carries the canonical chat
 * body, so blocks, masks and system prompts apply as on /v1/chat/completions, and a block is Google-shaped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const config = `
guardrails:
  rules:
    - name: house-rules
      type: system_prompt
      mode: inject
      content: Answer briefly.
    - name: no-secrets-project
      type: regex
      patterns: ['project-zeus-\\d+']
      action: block
    - name: mild-language
      type: denylist
      words: [darn]
      action: mask
      replacement: '***'
`;

let simulator: Simulator;
let running: RunningGateway;
let directory: string;
let ai: GoogleGenAI;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-gemini-guardrails-'));
  writeFileSync(join(directory, 'config.yaml'), config);
  simulator = await startOpenAISimulator({ apiKey: 'sk-openai' });
  running = await startGateway(
    { OPENAI_API_KEY: 'sk-openai', OPENAI_BASE_URL: simulator.baseUrl, MODELGATE_MASTER_KEY: 'mg-guard', GUARDRAILS_ENABLED: 'true', SQLITE_PATH: join(directory, 'gateway.db') },
    { cwd: directory },
  );
  ai = new GoogleGenAI({ apiKey: 'mg-guard', httpOptions: { baseUrl: running.url } });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

describe('guardrails on the Gemini API', () => {
  it('blocks with a Google-shaped 400 without calling upstream', async () => {
    const before = simulator.requests.length;
    const error = (await ai.models.generateContent({ model: 'gpt-4o-mini', contents: 'tell me about project-zeus-42' }).catch((caught: unknown) => caught)) as {
      status?: number;
      message: string;
    };
    expect(error.status).toBe(400);
    expect(JSON.parse(error.message.slice(error.message.indexOf('{')))).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect(simulator.requests.length).toBe(before);
  });

  it('masks denied words and injects the system prompt upstream', async () => {
    const response = await ai.models.generateContent({ model: 'gpt-4o-mini', contents: 'oh darn it' });
    expect(response.text).toContain('oh *** it');
    const messages = simulator.requests.at(-1)?.body?.messages as { role: string; content: string }[];
    expect(messages[0]).toEqual({ role: 'system', content: 'Answer briefly.' });
    expect(messages.at(-1)?.content).toBe('oh *** it');
  });
});
