/** Benchmark results: machine description, ratios, goal checks, a text table and an SVG chart. */
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { PairedLatencyResult, StreamProbeResult, ThroughputResult } from './load.ts';
import type { StreamsLevelResult } from './streams.ts';

export const workloadIds = ['chat-c1', 'chat-c32', 'stream-c1', 'stream-c32'] as const;
export type WorkloadId = (typeof workloadIds)[number];

export interface TargetResult {
  id: string;
  label: string;
  coldStartMs: number;
  idleRssMb: number;
  peakRssMb: number;
  workloads: Partial<Record<WorkloadId, ThroughputResult>>;
  streaming: { c1?: StreamProbeResult; c32?: StreamProbeResult };
  /** Chat at concurrency 1, direct and through this target in alternating pairs. */
  pairedLatency?: PairedLatencyResult;
  /** The streams workload, per level (concurrent streams). */
  streams?: Record<string, StreamsLevelResult>;
}

export interface GoalCheck {
  goal: string;
  value: number;
  limit: number;
  met: boolean;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  kernel: string;
  loadAverageAtStart: number[];
}

export interface BenchResults {
  date: string;
  mode: 'full' | 'quick' | 'custom';
  machine: MachineInfo;
  settings: Record<string, unknown>;
  targets: TargetResult[];
  ratios: Record<string, number>;
  goals: GoalCheck[];
}

export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

const round = (value: number, digits = 3) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : Number.NaN);

/** Ratios between targets measured in the same run, and the issue's goals checked against them. */
export function compare(targets: TargetResult[]): { ratios: Record<string, number>; goals: GoalCheck[] } {
  const byId = new Map(targets.map((target) => [target.id, target]));
  const direct = byId.get('direct');
  const floor = byId.get('floor');
  const modelgate = byId.get('modelgate');
  const portkey = byId.get('portkey');
  const ratios: Record<string, number> = {};
  const goals: GoalCheck[] = [];
  if (!modelgate) return { ratios, goals };
  for (const workload of workloadIds) {
    const ours = modelgate.workloads[workload]?.requestsPerSecond;
    if (ours === undefined) continue;
    const floorRps = floor?.workloads[workload]?.requestsPerSecond;
    const portkeyRps = portkey?.workloads[workload]?.requestsPerSecond;
    if (floorRps) ratios[`throughput.${workload}.modelgate/floor`] = round(ours / floorRps);
    if (portkeyRps) ratios[`throughput.${workload}.modelgate/portkey`] = round(ours / portkeyRps);
    const ourCpu = modelgate.workloads[workload]?.cpuMsPerRequest;
    const floorCpu = floor?.workloads[workload]?.cpuMsPerRequest;
    const portkeyCpu = portkey?.workloads[workload]?.cpuMsPerRequest;
    if (ourCpu !== undefined && floorCpu) ratios[`cpuPerRequest.${workload}.modelgate/floor`] = round(ourCpu / floorCpu);
    if (ourCpu !== undefined && portkeyCpu) ratios[`cpuPerRequest.${workload}.modelgate/portkey`] = round(ourCpu / portkeyCpu);
  }
  const baseline = byId.get('baseline');
  for (const workload of baseline ? workloadIds : []) {
    const before = baseline?.workloads[workload];
    const after = modelgate.workloads[workload];
    const floorResult = floor?.workloads[workload];
    if (!before || !after) continue;
    ratios[`throughput.${workload}.modelgate/baseline`] = round(after.requestsPerSecond / before.requestsPerSecond);
    if (floorResult) ratios[`throughput.${workload}.baseline/floor`] = round(before.requestsPerSecond / floorResult.requestsPerSecond);
    if (after.cpuMsPerRequest !== undefined && before.cpuMsPerRequest) {
      ratios[`cpuPerRequest.${workload}.modelgate/baseline`] = round(after.cpuMsPerRequest / before.cpuMsPerRequest);
    }
    if (before.cpuMsPerRequest !== undefined && floorResult?.cpuMsPerRequest) {
      ratios[`cpuPerRequest.${workload}.baseline/floor`] = round(before.cpuMsPerRequest / floorResult.cpuMsPerRequest);
    }
  }
  for (const target of targets) {
    if (target.id === 'direct' || !direct) continue;
    const chat = target.workloads['chat-c1']?.p50Ms;
    const directChat = direct.workloads['chat-c1']?.p50Ms;
    if (target.pairedLatency) ratios[`addedP50Ms.chat-c1.${target.id}`] = round(target.pairedLatency.addedP50Ms);
    if (chat !== undefined && directChat !== undefined) ratios[`addedP50Ms.chat-c1.${target.id}.autocannon`] = round(chat - directChat);
    const ttfb = target.streaming.c1?.timeToFirstByte.p50Ms;
    const directTtfb = direct.streaming.c1?.timeToFirstByte.p50Ms;
    if (ttfb !== undefined && directTtfb !== undefined) ratios[`addedTtfbP50Ms.stream-c1.${target.id}`] = round(ttfb - directTtfb);
  }
  const add = (goal: string, value: number | undefined, limit: number, atLeast: boolean) => {
    if (value === undefined || !Number.isFinite(value)) return;
    goals.push({ goal, value: round(value), limit, met: atLeast ? value >= limit : value < limit });
  };
  add('throughput (chat, c32) >= 3x Portkey', ratios['throughput.chat-c32.modelgate/portkey'], 3, true);
  add('throughput (stream, c32) >= 3x Portkey', ratios['throughput.stream-c32.modelgate/portkey'], 3, true);
  add('throughput (chat, c32) >= 0.5x bare proxy', ratios['throughput.chat-c32.modelgate/floor'], 0.5, true);
  add('throughput (stream, c32) >= 0.5x bare proxy', ratios['throughput.stream-c32.modelgate/floor'], 0.5, true);
  add('added p50 latency (chat, c1, autocannon) < 0.3 ms', ratios['addedP50Ms.chat-c1.modelgate.autocannon'], 0.3, false);
  add('added p50 latency (chat, c1, paired) < 0.3 ms', ratios['addedP50Ms.chat-c1.modelgate'], 0.3, false);
  add('streaming TTFB p50 (c1) within 1 ms of direct', ratios['addedTtfbP50Ms.stream-c1.modelgate'], 1, false);
  for (const target of targets) {
    if (target.id === 'direct' || !target.streams) continue;
    for (const [level, measured] of Object.entries(target.streams)) {
      const directLevel = direct?.streams?.[level];
      if (directLevel) {
        ratios[`streams.${level}.addedGapP50Ms.${target.id}`] = round(measured.gapP50Ms - directLevel.gapP50Ms);
        ratios[`streams.${level}.addedGapP99Ms.${target.id}`] = round(measured.gapP99Ms - directLevel.gapP99Ms);
      }
      const floorCpu = floor?.streams?.[level]?.cpuMsPerChunk;
      if (measured.cpuMsPerChunk !== undefined && floorCpu && target.id !== 'floor') {
        ratios[`streams.${level}.cpuPerChunk.${target.id}/floor`] = round(measured.cpuMsPerChunk / floorCpu);
      }
    }
  }
  // Issue 15's footprint goals, on what a deployment runs: the bundle when it was measured, else the sources.
  const deployed = byId.get('bundle') ?? modelgate;
  add(`idle RSS <= 80 MB (${deployed.id})`, deployed.idleRssMb, 80.01, false);
  add(`cold start <= 300 ms (${deployed.id})`, deployed.coldStartMs, 300.01, false);
  const largest = Object.keys(deployed.streams ?? {}).sort((a, b) => Number(b) - Number(a))[0];
  if (largest !== undefined) {
    const measured = deployed.streams?.[largest] as StreamsLevelResult;
    add(`streams ${largest}: added inter-chunk p99 < 20 ms (${deployed.id})`, ratios[`streams.${largest}.addedGapP99Ms.${deployed.id}`], 20, false);
    add(`streams ${largest}: peak RSS <= 600 MB (${deployed.id})`, measured.peakRssMb, 600.01, false);
    add(`streams ${largest}: no errors (${deployed.id})`, measured.errors, 0.5, false);
  }
  return { ratios, goals };
}

function pad(text: string, width: number, left = false): string {
  return left ? text.padEnd(width) : text.padStart(width);
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** A plain-text report: one block per workload, then streaming, processes, ratios and goals. */
export function formatReport(results: BenchResults): string {
  const lines: string[] = [];
  const { machine } = results;
  lines.push(
    `Modelgate benchmark (${results.mode}) ${results.date}`,
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.kernel}`,
    '',
  );
  const direct = results.targets.find((target) => target.id === 'direct');
  for (const workload of workloadIds) {
    const [kind, concurrency] = workload.split('-');
    lines.push(`${kind === 'chat' ? 'Chat, non-streaming' : 'Chat, streaming (full response)'}, concurrency ${concurrency?.slice(1)}`);
    lines.push(
      `  ${pad('target', 12, true)}${pad('req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('+p50 ms', 9)}${pad('cpu ms/req', 12)}${pad('errors', 8)}`,
    );
    for (const target of results.targets) {
      const result = target.workloads[workload];
      if (!result) continue;
      const directP50 = direct?.workloads[workload]?.p50Ms;
      const added = target.id === 'direct' || directP50 === undefined ? undefined : result.p50Ms - directP50;
      lines.push(
        `  ${pad(target.id, 12, true)}${pad(fixed(result.requestsPerSecond, 0), 10)}${pad(fixed(result.p50Ms, 3), 9)}${pad(fixed(result.p99Ms, 3), 9)}${pad(added === undefined ? '' : fixed(added, 3), 9)}${pad(fixed(result.cpuMsPerRequest, 3), 12)}${pad(String(result.errors), 8)}`,
      );
    }
    lines.push('');
  }
  for (const key of ['c1', 'c32'] as const) {
    lines.push(`Streaming time to first / last byte, concurrency ${key.slice(1)} (ms)`);
    lines.push(
      `  ${pad('target', 12, true)}${pad('TTFB p50', 10)}${pad('TTFB p99', 10)}${pad('TTLB p50', 10)}${pad('TTLB p99', 10)}${pad('+TTFB', 8)}${pad('errors', 8)}`,
    );
    for (const target of results.targets) {
      const probe = target.streaming[key];
      if (!probe) continue;
      const directTtfb = direct?.streaming[key]?.timeToFirstByte.p50Ms;
      const added = target.id === 'direct' || directTtfb === undefined ? undefined : probe.timeToFirstByte.p50Ms - directTtfb;
      lines.push(
        `  ${pad(target.id, 12, true)}${pad(fixed(probe.timeToFirstByte.p50Ms, 3), 10)}${pad(fixed(probe.timeToFirstByte.p99Ms, 3), 10)}${pad(fixed(probe.timeToLastByte.p50Ms, 3), 10)}${pad(fixed(probe.timeToLastByte.p99Ms, 3), 10)}${pad(added === undefined ? '' : fixed(added, 3), 8)}${pad(String(probe.errors), 8)}`,
      );
    }
    lines.push('');
  }
  if (results.targets.some((target) => target.pairedLatency)) {
    lines.push('Added latency, chat at concurrency 1, direct and target requests in alternating pairs (ms)');
    lines.push(
      `  ${pad('target', 12, true)}${pad('pairs', 8)}${pad('direct p50', 12)}${pad('target p50', 12)}${pad('added p50', 11)}${pad('errors', 8)}`,
    );
    for (const target of results.targets) {
      const paired = target.pairedLatency;
      if (!paired) continue;
      lines.push(
        `  ${pad(target.id, 12, true)}${pad(String(paired.pairs), 8)}${pad(fixed(paired.direct.p50Ms, 3), 12)}${pad(fixed(paired.target.p50Ms, 3), 12)}${pad(fixed(paired.addedP50Ms, 3), 11)}${pad(String(paired.errors), 8)}`,
      );
    }
    lines.push('');
  }
  lines.push('Processes (direct = the mock upstream itself)');
  lines.push(`  ${pad('target', 12, true)}${pad('cold start ms', 15)}${pad('idle RSS MB', 13)}${pad('peak RSS MB', 13)}`);
  for (const target of results.targets) {
    lines.push(
      `  ${pad(target.id, 12, true)}${pad(fixed(target.coldStartMs, 0), 15)}${pad(fixed(target.idleRssMb, 1), 13)}${pad(fixed(target.peakRssMb, 1), 13)}`,
    );
  }
  const streamLevels = [...new Set(results.targets.flatMap((target) => Object.keys(target.streams ?? {})))];
  if (streamLevels.length > 0) {
    lines.push('', 'Streams workload (inter-chunk gap = upstream interval + delays; RSS and CPU of the target process)');
    lines.push(
      `  ${pad('target', 12, true)}${pad('streams', 8)}${pad('done', 7)}${pad('errors', 8)}${pad('gap p50', 9)}${pad('gap p99', 9)}${pad('gap max', 9)}${pad('peak RSS', 10)}${pad('cpu/chunk', 11)}`,
    );
    for (const level of streamLevels) {
      for (const target of results.targets) {
        const measured = target.streams?.[level];
        if (!measured) continue;
        lines.push(
          `  ${pad(target.id, 12, true)}${pad(level, 8)}${pad(String(measured.completed), 7)}${pad(String(measured.errors), 8)}${pad(fixed(measured.gapP50Ms, 1), 9)}${pad(fixed(measured.gapP99Ms, 1), 9)}${pad(fixed(measured.gapMaxMs, 0), 9)}${pad(fixed(measured.peakRssMb, 0), 10)}${pad(fixed(measured.cpuMsPerChunk, 4), 11)}`,
        );
      }
    }
  }
  lines.push('', 'Ratios and differences (same run)');
  for (const [name, value] of Object.entries(results.ratios)) lines.push(`  ${pad(name, 48, true)}${fixed(value, 3)}`);
  if (results.goals.length > 0) {
    lines.push('', 'Goals');
    for (const goal of results.goals) lines.push(`  [${goal.met ? 'met' : 'MISSED'}] ${pad(goal.goal, 56, true)}${fixed(goal.value, 3)}`);
  }
  return lines.join('\n');
}

/** The headline figures as Markdown tables (for README and docs/benchmarks.md). */
export function formatMarkdown(results: BenchResults): string {
  const { machine } = results;
  const direct = results.targets.find((target) => target.id === 'direct');
  const lines = [
    `Measured ${results.date.slice(0, 10)} on ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, Node ${machine.node} (${machine.kernel}); load generator, mock upstream and the gateway share the machine.`,
    '',
    '| target | chat c=1 req/s | chat c=1 p50 / p99 ms | chat c=32 req/s | chat c=32 p50 / p99 ms | stream c=32 req/s | stream TTFB p50 c=1 ms | added p50 c=1 ms (autocannon / paired) | CPU ms/req (chat c=32) | cold start ms | idle / peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const target of results.targets) {
    const chat1 = target.workloads['chat-c1'];
    const chat32 = target.workloads['chat-c32'];
    const stream32 = target.workloads['stream-c32'];
    const autocannonAdded = (chat1?.p50Ms ?? Number.NaN) - (direct?.workloads['chat-c1']?.p50Ms ?? Number.NaN);
    const added = target.id === 'direct' ? '' : `${fixed(autocannonAdded, 3)} / ${fixed(target.pairedLatency?.addedP50Ms, 3)}`;
    lines.push(
      `| ${target.label} | ${fixed(chat1?.requestsPerSecond, 0)} | ${fixed(chat1?.p50Ms, 3)} / ${fixed(chat1?.p99Ms, 2)} | ${fixed(chat32?.requestsPerSecond, 0)} | ${fixed(chat32?.p50Ms, 2)} / ${fixed(chat32?.p99Ms, 1)} | ${fixed(stream32?.requestsPerSecond, 0)} | ${fixed(target.streaming.c1?.timeToFirstByte.p50Ms, 3)} | ${added} | ${fixed(chat32?.cpuMsPerRequest, 3)} | ${fixed(target.coldStartMs, 0)} | ${fixed(target.idleRssMb, 0)} / ${fixed(target.peakRssMb, 0)} |`,
    );
  }
  lines.push('', '| goal | measured | result |', '|---|---:|---|');
  for (const goal of results.goals) lines.push(`| ${goal.goal} | ${fixed(goal.value, 3)} | ${goal.met ? 'met' : 'missed'} |`);
  return lines.join('\n');
}

const colors: Record<string, string> = {
  direct: '#9e9e9e',
  floor: '#5c6bc0',
  modelgate: '#2e7d32',
  portkey: '#ef6c00',
};

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function niceMaximum(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

interface BarGroup {
  label: string;
  bars: { id: string; value: number | undefined }[];
}

function formatValue(value: number): string {
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** One bar chart panel; `log` plots on a base-10 scale (for values spanning several orders of magnitude). */
function barPanel(
  title: string,
  unit: string,
  groups: BarGroup[],
  box: { x: number; y: number; width: number; height: number },
  scale: 'linear' | 'log',
): string {
  const { x, y, width, height } = box;
  const parts: string[] = [];
  const top = y + 40;
  const bottom = y + height - 34;
  const left = x + 56;
  const right = x + width - 10;
  const values = groups.flatMap((group) => group.bars.map((bar) => bar.value ?? 0)).filter((value) => Number.isFinite(value));
  const largest = Math.max(0, ...values);
  let ticks: number[];
  let position: (value: number) => number;
  if (scale === 'log') {
    const low = 0.01;
    const high = 10 ** Math.max(0, Math.ceil(Math.log10(Math.max(largest, 1))));
    const span = Math.log10(high) - Math.log10(low);
    position = (value) => (Math.log10(Math.min(high, Math.max(low, value))) - Math.log10(low)) / span;
    ticks = [];
    for (let tick = low; tick <= high * 1.0001; tick *= 10) ticks.push(Number(tick.toPrecision(1)));
  } else {
    const maximum = niceMaximum(largest);
    position = (value) => Math.max(0, value) / maximum;
    ticks = [0, 1, 2, 3, 4].map((step) => (maximum * step) / 4);
  }
  parts.push(`<text x="${x + width / 2}" y="${y + 16}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (const value of ticks) {
    const tickY = bottom - (bottom - top) * position(value);
    parts.push(`<line x1="${left}" y1="${tickY.toFixed(1)}" x2="${right}" y2="${tickY.toFixed(1)}" stroke="#e0e0e0"/>`);
    const label = value >= 1000 ? `${Number((value / 1000).toFixed(1))}k` : String(value);
    parts.push(`<text x="${left - 6}" y="${(tickY + 4).toFixed(1)}" text-anchor="end" font-size="11">${label}</text>`);
  }
  parts.push(
    `<text x="${x + 12}" y="${(top + bottom) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 ${x + 12} ${(top + bottom) / 2})">${escapeXml(scale === 'log' ? `${unit} (log scale)` : unit)}</text>`,
  );
  const groupWidth = (right - left) / Math.max(1, groups.length);
  groups.forEach((group, groupIndex) => {
    const barWidth = Math.min(34, (groupWidth - 16) / Math.max(1, group.bars.length));
    const start = left + groupIndex * groupWidth + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, barIndex) => {
      if (bar.value === undefined || !Number.isFinite(bar.value)) return;
      const barHeight = (bottom - top) * position(bar.value);
      const barX = start + barIndex * barWidth;
      parts.push(
        `<rect x="${barX.toFixed(1)}" y="${(bottom - barHeight).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${colors[bar.id] ?? '#607d8b'}"><title>${escapeXml(`${bar.id}: ${formatValue(bar.value)} ${unit}`)}</title></rect>`,
      );
      parts.push(
        `<text x="${(barX + (barWidth - 2) / 2).toFixed(1)}" y="${(bottom - barHeight - 3).toFixed(1)}" text-anchor="middle" font-size="9">${formatValue(bar.value)}</text>`,
      );
    });
    parts.push(
      `<text x="${left + groupIndex * groupWidth + groupWidth / 2}" y="${bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(group.label)}</text>`,
    );
  });
  parts.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#424242"/>`);
  return parts.join('\n');
}

/** A dependency-free SVG chart: throughput per workload, and latency added over direct. */
export function renderSvg(results: BenchResults): string {
  const width = 960;
  const height = 520;
  const targets = results.targets;
  const direct = targets.find((target) => target.id === 'direct');
  const gateways = targets.filter((target) => target.id !== 'direct');
  const throughputGroups: BarGroup[] = workloadIds.map((workload) => ({
    label: workload.replace('-c', ', c='),
    bars: gateways.map((target) => ({ id: target.id, value: target.workloads[workload]?.requestsPerSecond })),
  }));
  const addedGroups: BarGroup[] = [
    {
      label: 'chat p50, c=1',
      bars: gateways.map((target) => ({
        id: target.id,
        value:
          target.pairedLatency?.addedP50Ms ??
          (target.workloads['chat-c1']?.p50Ms ?? Number.NaN) - (direct?.workloads['chat-c1']?.p50Ms ?? Number.NaN),
      })),
    },
    {
      label: 'stream TTFB p50, c=1',
      bars: gateways.map((target) => ({
        id: target.id,
        value: (target.streaming.c1?.timeToFirstByte.p50Ms ?? Number.NaN) - (direct?.streaming.c1?.timeToFirstByte.p50Ms ?? Number.NaN),
      })),
    },
    {
      label: 'chat p50, c=32',
      bars: gateways.map((target) => ({
        id: target.id,
        value: (target.workloads['chat-c32']?.p50Ms ?? Number.NaN) - (direct?.workloads['chat-c32']?.p50Ms ?? Number.NaN),
      })),
    },
  ];
  const { machine } = results;
  const directChat = direct?.workloads['chat-c32']?.requestsPerSecond;
  const note = directChat === undefined ? '' : `Direct to the mock upstream (no proxy): ${directChat.toFixed(0)} req/s at chat, c=32.`;
  const legend = gateways
    .map(
      (target, index) =>
        `<rect x="${20 + index * 170}" y="${height - 22}" width="12" height="12" fill="${colors[target.id] ?? '#607d8b'}"/><text x="${36 + index * 170}" y="${height - 12}" font-size="12">${escapeXml(target.label)}</text>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="24" font-size="16" font-weight="bold">Modelgate benchmark, ${escapeXml(results.date.slice(0, 16).replace('T', ' '))} UTC</text>`,
    `<text x="20" y="42" font-size="12" fill="#555">${escapeXml(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}; instant mock upstream, all processes on one machine`)}</text>`,
    barPanel(
      'Throughput through each proxy (requests/s, higher is better)',
      'req/s',
      throughputGroups,
      { x: 10, y: 56, width: 560, height: 420 },
      'linear',
    ),
    barPanel('Latency added over direct (ms, lower is better)', 'ms', addedGroups, { x: 580, y: 56, width: 370, height: 420 }, 'log'),
    legend,
    `<text x="${width - 20}" y="${height - 12}" font-size="11" text-anchor="end" fill="#555">${escapeXml(note)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
