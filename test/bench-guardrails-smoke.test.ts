/**
 * The guardrails bench (bench/guardrails.ts) at tiny scale: the mock upstream and two Modelgate processes
 * (guardrails off; regex + pii guardrails masking), 20 requests per workload. Proves the workload does what it
 * says (every request to the guardrails target is masked by both guardrails, counted from its /metrics), the
 * prompt is the 10 KB of the goal, and the results are complete; asserts nothing about performance.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchPrompt, formatGuardrailsReport, runGuardrailsBench, writeGuardrailsResults } from '../bench/guardrails.ts';
import { quickSettings } from '../bench/settings.ts';
import { targetDefinitions } from '../bench/target-definitions.ts';
import { freePort } from '../bench/targets.ts';

describe('the guardrails bench at tiny scale', () => {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-bench-guardrails-smoke-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('measures Modelgate with regex + pii guardrails against the same checkout without them', async () => {
    const prompt = benchPrompt();
    expect(prompt.length).toBe(10 * 1024);
    expect(prompt.match(/@example\.(?:org|com|net)/g)?.length).toBeGreaterThanOrEqual(3);
    const definitions = await targetDefinitions(await freePort(), directory, { ...quickSettings, streamChunks: 3 });
    const lines: string[] = [];
    const results = await runGuardrailsBench(
      { durationSeconds: 1, warmupSeconds: 0, rounds: 1, pairedSeconds: 1, requestsPerRun: 20 },
      { definitions, workDirectory: directory, log: (line) => lines.push(line) },
    );
    for (const id of ['modelgate', 'modelgate-guardrails']) {
      for (const workload of ['chat-c1', 'chat-c32'] as const) {
        expect(results.workloads[id]?.[workload]?.count, `${id} ${workload}`).toBe(20);
        expect(results.workloads[id]?.[workload]?.errors, `${id} ${workload}`).toBe(0);
      }
    }
    expect(results.paired?.pairs).toBe(20);
    // 40 measured requests and the paired ones (2 warm-up, 20 measured) reached the guardrails target: each masked twice.
    expect(results.masks).toEqual({ 'code-names': 62, 'personal-data': 62 });
    expect(results.inProcessMicroseconds).toBeGreaterThan(0);
    const report = formatGuardrailsReport(results);
    expect(report).toContain('Added p50 at c1');
    expect(report).toContain('Added CPU per request');
    const written = JSON.parse(readFileSync(writeGuardrailsResults(results, directory, 'guardrails-smoke'), 'utf8')) as { masks: unknown };
    expect(written.masks).toEqual(results.masks);
  }, 120_000);
});
