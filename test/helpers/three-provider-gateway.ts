/**
 * An in-process gateway in front of the three provider simulators (OpenAI, Anthropic, Gemini), for the
 * tests that drive every translation path at once (fuzzers, cross-API checks).
 */
import { type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from '../simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { type RunningGateway, startGateway } from './start-gateway.ts';

export interface ThreeProviderGateway {
  running: RunningGateway;
  openai: Simulator;
  anthropic: AnthropicSimulator;
  gemini: GeminiSimulator;
  close(): Promise<void>;
}

export async function startThreeProviderGateway(env: Record<string, string> = {}): Promise<ThreeProviderGateway> {
  const openai = await startOpenAISimulator({ apiKey: 'sk-three' });
  const anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-three' });
  const gemini = await startGeminiSimulator({ apiKey: 'gem-three' });
  const running = await startGateway({
    OPENAI_API_KEY: 'sk-three',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-three',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'gem-three',
    GEMINI_BASE_URL: gemini.baseUrl,
    SQLITE_PATH: ':memory:',
    ...env,
  });
  return {
    running,
    openai,
    anthropic,
    gemini,
    async close() {
      await running.close();
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
    },
  };
}
