/**
 * What the coding-agent CLI tests (test/coding-agent-clis*.test.ts) share: a fresh working directory and home
 * per run, the failure detail of a run, the tool round trip the agent sent upstream, found in a simulator's
 * recorded requests in each wire format (the tool call in the message before the last, its result in the
 * last), and the usage and audit rows a run must leave.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AgentRun } from './agent-cli.ts';
import { waitForRows } from './gateway-records.ts';

type Json = Record<string, unknown>;

/** A simulator's recorded request (the simulators in test/simulators keep the parsed JSON body). */
interface RecordedRequest {
  body?: Json | undefined;
}

/** A working directory and a home of its own for one agent run, under `directory`. */
export function agentRunDirectories(directory: string, name: string): { workdir: string; home: string } {
  return { workdir: mkdtempSync(join(directory, `${name}-work-`)), home: mkdtempSync(join(directory, `${name}-home-`)) };
}

/** How a run ended and what it printed, for the message of a failed expectation. */
export function runDetail(run: AgentRun): string {
  return `exit ${run.code} ${run.signal ?? ''}${run.timedOut ? ' (timed out)' : ''}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

function blocks(message: Json | undefined, key: string): Json[] {
  const value = message?.[key];
  return Array.isArray(value) ? (value as Json[]) : [];
}

/** Anthropic Messages: the first request whose last message holds a tool_result; its tool_use block and that result. */
export function anthropicToolRoundTrip(requests: RecordedRequest[]): { call: Json | undefined; result: Json | undefined } {
  const carrying = requests.find((request) =>
    blocks((request.body?.messages as Json[] | undefined)?.at(-1), 'content').some((block) => block.type === 'tool_result'),
  );
  const messages = (carrying?.body?.messages as Json[] | undefined) ?? [];
  return {
    call: blocks(messages.at(-2), 'content').find((block) => block.type === 'tool_use'),
    result: blocks(messages.at(-1), 'content').find((block) => block.type === 'tool_result'),
  };
}

/** OpenAI chat completions: the first request whose last message is a tool message; the assistant's first tool call and that message. */
export function chatToolRoundTrip(requests: RecordedRequest[]): { call: Json | undefined; result: Json | undefined } {
  const carrying = requests.find((request) => (request.body?.messages as Json[] | undefined)?.at(-1)?.role === 'tool');
  const messages = (carrying?.body?.messages as Json[] | undefined) ?? [];
  return { call: blocks(messages.at(-2), 'tool_calls')[0], result: messages.at(-1) };
}

/** Gemini contents: the first request whose last content holds a functionResponse part; the functionCall part before it and that part. */
export function geminiToolRoundTrip(requests: RecordedRequest[]): { call: Json | undefined; response: Json | undefined } {
  const carrying = requests.find((request) =>
    blocks((request.body?.contents as Json[] | undefined)?.at(-1), 'parts').some((part) => part.functionResponse !== undefined),
  );
  const contents = (carrying?.body?.contents as Json[] | undefined) ?? [];
  return {
    call: blocks(contents.at(-2), 'parts').find((part) => part.functionCall !== undefined),
    response: blocks(contents.at(-1), 'parts').find((part) => part.functionResponse !== undefined),
  };
}

/**
 * A streamed agent call on `endpoint` through `provider` leaves at least two usage rows (one a request of the
 * round trip) with the model and tokens counted, and as many audit rows of status 200 on `path`.
 */
export async function expectStreamedRecords(
  gateway: { url: string; key: string },
  expected: { endpoint: string; path: string; provider: string; model: string },
): Promise<void> {
  const match = (row: Json) => row.endpoint === expected.endpoint && row.provider === expected.provider;
  const usage = await waitForRows(gateway.url, gateway.key, 'usage', match, 2);
  expect(usage.length).toBeGreaterThanOrEqual(2);
  for (const row of usage) {
    expect(row).toMatchObject({ status: 200, model: expected.model, stream: true });
    expect(Number(row.input_tokens)).toBeGreaterThan(0);
    expect(Number(row.output_tokens)).toBeGreaterThan(0);
  }
  const audit = await waitForRows(gateway.url, gateway.key, 'audit', match, 2);
  expect(audit.length).toBeGreaterThanOrEqual(2);
  for (const row of audit) expect(row).toMatchObject({ status: 200, path: expected.path });
}
