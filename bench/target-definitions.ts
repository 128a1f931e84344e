/** The bench's targets (mock upstream, bare proxy, Modelgate, its bundle, a baseline checkout, Portkey): how each is started and addressed. */
import { join, resolve } from 'node:path';
import { benchDirectory, bundleFile, portkeyServerFile, projectDirectory } from './paths.ts';
import type { BenchSettings } from './settings.ts';
import { freePort, type TargetDefinition } from './targets.ts';

export const benchMasterKey = 'bench-master-key';
const upstreamKey = 'sk-bench-upstream';

/** How each target is started and addressed, for an upstream on `upstreamPort`. */
export async function targetDefinitions(
  upstreamPort: number,
  workDirectory: string,
  settings: BenchSettings,
): Promise<Record<string, TargetDefinition>> {
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const modelgatePort = await freePort();
  const floorPort = await freePort();
  const portkeyPort = await freePort();
  const modelgateDefinition = (
    id: string,
    label: string,
    entry: string,
    port: number,
    nodeFlags: string[],
    extraEnv: Record<string, string> | undefined,
  ): TargetDefinition => ({
    id,
    label,
    nodeArguments: [...nodeFlags, entry],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      MODELGATE_MASTER_KEY: benchMasterKey,
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: `${upstreamUrl}/v1`,
      SQLITE_PATH: join(workDirectory, `${id}.db`),
      ...extraEnv,
    },
    port,
    readinessPath: '/health',
    headers: { authorization: `Bearer ${benchMasterKey}` },
  });
  const profileArguments = settings.cpuProfileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDirectory}`] : [];
  return {
    direct: {
      id: 'direct',
      label: 'Direct (mock upstream)',
      nodeArguments: [
        join(benchDirectory, 'mock-upstream.ts'),
        `--port=${upstreamPort}`,
        `--chunks=${settings.streamChunks}`,
        `--slow-interval=${settings.streamsIntervalMs}`,
      ],
      env: {},
      port: upstreamPort,
      readinessPath: '/health',
      headers: { authorization: `Bearer ${upstreamKey}` },
    },
    floor: {
      id: 'floor',
      label: 'Bare Node proxy (floor)',
      nodeArguments: [join(benchDirectory, 'bare-proxy.ts'), `--port=${floorPort}`, `--upstream=${upstreamUrl}`],
      env: {},
      port: floorPort,
      readinessPath: '/health',
      headers: { authorization: `Bearer ${upstreamKey}` },
    },
    modelgate: modelgateDefinition(
      'modelgate',
      'Modelgate (defaults)',
      join(projectDirectory, 'src', 'main.ts'),
      modelgatePort,
      [...profileArguments],
      settings.modelgateEnv,
    ),
    // The production bundle (scripts/build.ts), as the container image runs it; built before the run.
    bundle: modelgateDefinition('bundle', 'Modelgate (bundle)', bundleFile, await freePort(), [], settings.modelgateEnv),
    ...(settings.baselineDirectory
      ? {
          baseline: modelgateDefinition(
            'baseline',
            `Modelgate baseline (${settings.baselineDirectory})`,
            join(resolve(settings.baselineDirectory), 'src', 'main.ts'),
            await freePort(),
            [],
            settings.baselineEnv,
          ),
        }
      : {}),
    portkey: {
      id: 'portkey',
      label: 'Portkey gateway',
      nodeArguments: [portkeyServerFile, `--port=${portkeyPort}`, '--headless'],
      env: {},
      port: portkeyPort,
      readinessPath: '/',
      // Portkey's headers for an OpenAI-compatible upstream at a custom URL:
      // https://portkey.ai/docs/api-reference/inference-api/headers (x-portkey-provider, x-portkey-custom-host).
      headers: {
        authorization: `Bearer ${upstreamKey}`,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${upstreamUrl}/v1`,
      },
    },
  };
}
