/**
 * `npm run bench -- --guardrails`: what input guardrails cost per request (issue 13's goal: regex + PII
 * guardrails on a 10 KB prompt add at most 0.2 ms per request). In one run on one machine, each target its
 * own process over the instant mock upstream, the same checkout twice:
 * - `modelgate`: defaults (guardrails off: no stage);
 * - `modelgate-guardrails`: GUARDRAILS_ENABLED with one `regex` and one `pii` guardrail (all entities),
 *   both `mask`, from a config.yaml (MODELGATE_CONFIG).
 * Both get the same chat request at concurrency 1: a 10 KB prompt of ordinary prose with a few email
 * addresses, phone numbers and one code name the regex masks, so each request is scanned end to end and
 * rewritten. Figures: the added p50 (alternating pairs of the two targets, `runPairedLatency`) and the added
 * CPU time per request (the target processes' own CPU time over autocannon runs at c1, and at c32 where the
 * fixed per-request costs weigh less), rounds in alternating order, each target's round with the least CPU per
 * request kept.
 * Also measured in this process: the input guard alone (src/guardrails/input-guard.ts) on the same body,
 * which is what the guardrails add before serialisation. The masks are counted back from the guardrails
 * target's /metrics (modelgate_guardrail_decisions_total), so a run that masked nothing is visible.
 * Writes bench/results/guardrails.json (guardrails-quick.json with --quick).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuardrailSet } from '../src/guardrails/guardrail-set.ts';
import { createSelector } from '../src/guardrails/guardrail-selection.ts';
import { guardrailsYamlSchema } from '../src/guardrails/guardrails-config.ts';
import { guardInput } from '../src/guardrails/input-guard.ts';
import { createModelCall } from '../src/pipeline/model-call.ts';
import type { GatewayRequest } from '../src/http/types.ts';
import type { Json } from '../src/providers/types.ts';
import { type PairedLatencyResult, type RequestSpec, runPairedLatency, type ThroughputResult } from './load.ts';
import { benchModel } from './mock-upstream.ts';
import { benchDirectory } from './paths.ts';
import { measureRun, writeJsonResults } from './measured-run.ts';
import { machineInfo } from './report.ts';
import { fullSettings, quickSettings } from './settings.ts';
import { targetDefinitions } from './target-definitions.ts';
import { freePort, type RunningTarget, startTarget, type TargetDefinition } from './targets.ts';

export interface GuardrailsBenchSettings {
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  pairedSeconds: number;
  /** A fixed request count per run instead of a duration (smoke tests). */
  requestsPerRun?: number;
}

export interface GuardrailsBenchResults {
  date: string;
  machine: ReturnType<typeof machineInfo>;
  loadAverageAtEnd: number[];
  settings: GuardrailsBenchSettings;
  promptBytes: number;
  /** target id -> workload -> best round. */
  workloads: Record<string, Partial<Record<'chat-c1' | 'chat-c32', ThroughputResult>>>;
  /** modelgate (as "direct") against modelgate-guardrails, alternating pairs at c1. */
  paired: PairedLatencyResult | null;
  /** The input guard alone on the bench body, in this process: CPU microseconds per call. */
  inProcessMicroseconds: number;
  /** From the guardrails target's /metrics after the run. */
  masks: Record<string, number>;
  added: {
    /** p50 of (with guardrails - without) per pair, ms. Goal <= 0.2. */
    p50Ms: number;
    /** CPU per request with guardrails - without, ms. Goal <= 0.2. */
    cpuMsC1: number;
    cpuMsC32: number;
  };
}

/** The two guardrails of the goal, as config.yaml has them. */
export const benchGuardrailRules = [
  { name: 'code-names', type: 'regex', patterns: [String.raw`\bproject-[a-z]+-\d{2,}\b`], flags: 'i', action: 'mask' },
  { name: 'personal-data', type: 'pii', action: 'mask' },
] as const;

function guardrailsYaml(): string {
  // JSON is YAML: the rules as one flow mapping.
  return `guardrails:\n  enabled: true\n  rules: ${JSON.stringify(benchGuardrailRules)}\n`;
}

const paragraphs = [
  'Thanks for getting back to me so quickly. I went through the notes from Tuesday and I think we are mostly aligned on the rollout, but a few details still need a decision before the end of the quarter.',
  'The customer, Dana Whitfield, wrote again this morning from dana.whitfield@example.org and asked whether the migration window can move to the first week of March. She can be reached at +1 415-555-0142 during business hours.',
  'Our current estimate is that the import of historical records takes about six hours, most of it spent re-indexing. We could split it in two runs if the window is shorter, although that doubles the verification work for the support team.',
  'Marco mentioned that project-atlas-27 depends on the same database cluster, so we should check with his team before locking the date. He prefers email (marco.ferri@example.com) over chat for anything that needs a paper trail.',
  'For the invoice question: the amount on the last statement includes the onboarding fee, which was waived in the contract. Finance confirmed that a corrected statement will be sent within ten working days.',
  'If anything urgent comes up over the weekend, the on-call number is (020) 7946 0958. Please do not share it outside the escalation list; it rings the whole rota at once.',
  'On the product side, the new export format was well received. Two users asked for a way to schedule exports, and one asked for the column order to be configurable. Neither is in scope for this release, but both are in the backlog.',
  'I also reviewed the accessibility report. Most findings are minor contrast issues in the settings pages; the keyboard trap in the date picker is the only one I would treat as a blocker.',
  'Let me know if the second week of March works for your side as a fallback. I will draft the announcement once we have a date and circulate it to support@example.net for review.',
  'Finally, a reminder that the quarterly review moved to Thursday at 10:00. The agenda is unchanged: rollout status, the incident from last month, hiring, and the budget for the next two quarters.',
];

/** About `bytes` of prose with a few emails, phone numbers and code names, the same every run. */
export function benchPrompt(bytes = 10 * 1024): string {
  const parts: string[] = [];
  let length = 0;
  for (let index = 0; length < bytes; index++) {
    const paragraph = paragraphs[index % paragraphs.length] as string;
    parts.push(paragraph);
    length += paragraph.length + 2;
  }
  return parts.join('\n\n').slice(0, bytes);
}

export function benchGuardrailsBody(): Json {
  return {
    model: benchModel,
    messages: [
      { role: 'system', content: 'You are a helpful assistant. Summarise the message for the account manager.' },
      { role: 'user', content: benchPrompt() },
    ],
    max_tokens: 64,
  };
}

/** The input guard alone on the bench body: CPU microseconds per call (best of a few timed runs). */
async function timeInProcess(iterations: number): Promise<number> {
  const rules = guardrailsYamlSchema.parse({ enabled: true, rules: benchGuardrailRules });
  const selection = createSelector(createGuardrailSet(rules?.rules ?? [])).all;
  const body = benchGuardrailsBody();
  const request = { requestId: 'bench', keyId: null, signal: new AbortController().signal, startedAt: performance.now(), headers: {} };
  // A new call each time, as each request is one: a call's trace collects its guardrail decisions.
  const once = () => {
    const call = createModelCall(request as unknown as GatewayRequest, {
      endpoint: 'chat.completions',
      requestedModel: benchModel,
      body,
      stream: false,
      operations: [],
      prepare: (_target, _operation, prepared) => prepared,
    });
    return guardInput(selection, call, 'chat', body, new Map());
  };
  const guarded = (await once()) as { messages: { content: string }[] };
  if (guarded === body || !guarded.messages[1]?.content.includes('[EMAIL]')) throw new Error('bench: the guardrails masked nothing');
  // CPU time of this process (user + system), not wall time: on a loaded machine waiting for a core is not cost.
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 9; run++) {
    const before = process.cpuUsage();
    for (let index = 0; index < iterations; index++) await once();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / iterations);
  }
  return Number(best.toFixed(2));
}

/** Masks per guardrail from a Prometheus text page. */
function maskCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('modelgate_guardrail_decisions_total{') || !line.includes('action="mask"')) continue;
    const name = /guardrail="([^"]*)"/.exec(line)?.[1] ?? '?';
    counts[name] = (counts[name] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

export interface GuardrailsBenchTargets {
  /** The bench's own definitions (bench/run.ts `targetDefinitions`): direct and modelgate are used. */
  definitions: Record<string, TargetDefinition>;
  /** Where the targets keep their databases, logs and the config.yaml (removed by the caller). */
  workDirectory: string;
  log?: (line: string) => void;
}

export async function runGuardrailsBench(
  settings: GuardrailsBenchSettings,
  targets: GuardrailsBenchTargets,
): Promise<GuardrailsBenchResults> {
  const log = targets.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = machineInfo();
  const { definitions, workDirectory } = targets;
  const configFile = join(workDirectory, 'guardrails.yaml');
  writeFileSync(configFile, guardrailsYaml());
  const base = definitions.modelgate as TargetDefinition;
  const guarded: TargetDefinition = {
    ...base,
    id: 'modelgate-guardrails',
    label: 'Modelgate, regex + pii guardrails (mask)',
    port: await freePort(),
    env: {
      ...base.env,
      GUARDRAILS_ENABLED: 'true',
      MODELGATE_CONFIG: configFile,
      SQLITE_PATH: join(workDirectory, 'modelgate-guardrails.db'),
    },
  };
  guarded.env.PORT = String(guarded.port);
  const plain: TargetDefinition = { ...base, label: 'Modelgate, guardrails off (default)' };
  const body = JSON.stringify(benchGuardrailsBody());
  const running = new Map<string, RunningTarget>();
  const workloads: GuardrailsBenchResults['workloads'] = {};
  let paired: PairedLatencyResult | null = null;
  let masks: Record<string, number> = {};
  try {
    for (const definition of [definitions.direct as TargetDefinition, plain, guarded]) {
      const target = await startTarget(definition, { logDirectory: workDirectory });
      running.set(definition.id, target);
      log(`${definition.label}: ready in ${target.coldStartMs.toFixed(0)} ms`);
    }
    const spec = (target: RunningTarget): RequestSpec => ({
      url: target.url,
      path: '/v1/chat/completions',
      headers: target.definition.headers,
      body,
    });
    const order = ['modelgate', 'modelgate-guardrails'];
    const rounds = settings.requestsPerRun === undefined ? settings.rounds : 1;
    for (let round = 0; round < rounds; round++) {
      log(`Round ${round + 1} of ${rounds}`);
      for (const connections of [1, 32]) {
        const workload = connections === 1 ? 'chat-c1' : 'chat-c32';
        for (const id of round % 2 === 0 ? order : [...order].reverse()) {
          const target = running.get(id) as RunningTarget;
          const measured = await measureRun(target, spec(target), connections, settings);
          workloads[id] ??= {};
          // The round with the least CPU per request is kept: background load only ever adds to it.
          const best = workloads[id][workload];
          if (!best || (measured.cpuMsPerRequest ?? Number.POSITIVE_INFINITY) < (best.cpuMsPerRequest ?? Number.POSITIVE_INFINITY))
            workloads[id][workload] = measured;
          log(
            `  ${id.padEnd(21)} ${workload} ${measured.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${measured.p50Ms.toFixed(3)} ms  cpu/req ${measured.cpuMsPerRequest?.toFixed(3) ?? '-'} ms  errors ${measured.errors}`,
          );
        }
      }
    }
    paired = await runPairedLatency(
      spec(running.get('modelgate') as RunningTarget),
      spec(running.get('modelgate-guardrails') as RunningTarget),
      {
        durationSeconds: settings.requestsPerRun === undefined ? settings.pairedSeconds : 60,
        warmup: settings.requestsPerRun === undefined ? 200 : 2,
        ...(settings.requestsPerRun === undefined ? {} : { maxPairs: settings.requestsPerRun }),
      },
    );
    log(
      `  paired c1: ${paired.pairs} pairs, without p50 ${paired.direct.p50Ms.toFixed(3)} ms, with p50 ${paired.target.p50Ms.toFixed(3)} ms, added p50 ${paired.addedP50Ms.toFixed(3)} ms`,
    );
    const target = running.get('modelgate-guardrails') as RunningTarget;
    masks = maskCounts(await (await fetch(`${target.url}/metrics`, { headers: target.definition.headers })).text());
    log(`Guardrails target masked: ${JSON.stringify(masks)}`);
  } finally {
    for (const target of running.values()) await target.stop();
  }
  const inProcessMicroseconds = await timeInProcess(settings.requestsPerRun === undefined ? 2000 : 20);
  log(`Input guard alone, in process: ${inProcessMicroseconds} us CPU per call`);
  const cpu = (id: string, workload: 'chat-c1' | 'chat-c32') => workloads[id]?.[workload]?.cpuMsPerRequest ?? Number.NaN;
  const difference = (workload: 'chat-c1' | 'chat-c32') =>
    Number((cpu('modelgate-guardrails', workload) - cpu('modelgate', workload)).toFixed(4));
  return {
    date: new Date().toISOString(),
    machine,
    loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))),
    settings,
    promptBytes: Buffer.byteLength(benchPrompt()),
    workloads,
    paired,
    inProcessMicroseconds,
    masks,
    added: {
      p50Ms: paired === null ? Number.NaN : Number(paired.addedP50Ms.toFixed(4)),
      cpuMsC1: difference('chat-c1'),
      cpuMsC32: difference('chat-c32'),
    },
  };
}

export function formatGuardrailsReport(results: GuardrailsBenchResults): string {
  const rows: string[] = [];
  for (const id of ['modelgate', 'modelgate-guardrails']) {
    for (const workload of ['chat-c1', 'chat-c32'] as const) {
      const measured = results.workloads[id]?.[workload];
      if (!measured) continue;
      rows.push(
        `| ${id} | ${workload} | ${measured.requestsPerSecond.toFixed(0)} | ${measured.p50Ms.toFixed(3)} | ${measured.cpuMsPerRequest?.toFixed(3) ?? '-'} | ${measured.errors} |`,
      );
    }
  }
  const { added, machine, paired } = results;
  return [
    `Guardrails bench (regex + pii, mask; ${results.promptBytes}-byte prompt), ${results.date}; load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${results.loadAverageAtEnd.join(' ')}`,
    '',
    '| target | workload | req/s | p50 ms | CPU ms/req | errors |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Added p50 at c1 (${paired?.pairs ?? 0} alternating pairs): ${added.p50Ms} ms (goal <= 0.2)`,
    `Added CPU per request: c1 ${added.cpuMsC1} ms, c32 ${added.cpuMsC32} ms (goal <= 0.2)`,
    `Input guard alone, in process: ${results.inProcessMicroseconds} us CPU per call`,
    `Masks counted by the guardrails target: ${JSON.stringify(results.masks)}`,
  ].join('\n');
}

export function writeGuardrailsResults(results: GuardrailsBenchResults, directory: string, name: string): string {
  return writeJsonResults(results, directory, name);
}

/** `node bench/run.ts --guardrails [--quick] [--duration=s] [--rounds=n]`: runs, prints and writes the results. */
export async function runGuardrailsCommand(args: Map<string, string>): Promise<void> {
  const quick = args.has('quick');
  const workDirectory = mkdtempSync(join(tmpdir(), 'modelgate-bench-guardrails-'));
  const definitions = await targetDefinitions(await freePort(), workDirectory, quick ? quickSettings : fullSettings);
  const results = await runGuardrailsBench(
    {
      durationSeconds: Number(args.get('duration') ?? (quick ? 1 : 5)),
      warmupSeconds: quick ? 0.3 : 1,
      rounds: Number(args.get('rounds') ?? (quick ? 1 : 3)),
      pairedSeconds: quick ? 1 : 4,
    },
    { definitions, workDirectory },
  );
  rmSync(workDirectory, { recursive: true, force: true });
  process.stdout.write(`\n${formatGuardrailsReport(results)}\n`);
  process.stdout.write(
    `\nWrote ${writeGuardrailsResults(results, join(benchDirectory, 'results'), quick ? 'guardrails-quick' : 'guardrails')}\n`,
  );
}
