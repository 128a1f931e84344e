/**
 * What the Anthropic simulator's `POST /v1/messages` refuses with 400 (test/simulators/anthropic-simulator.ts cites
 * the references): unknown top-level fields, beta-only fields without their `anthropic-beta`, parameters removed by
 * an API version, and the model-specific sampling and thinking rules.
 */
import { createHash } from 'node:crypto';

type Json = Record<string, unknown>;

/** Signature the simulator puts on a thinking block: derived from its text, so tampering is detected. */
export function simulatedSignature(thinking: string): string {
  return `EqSim${createHash('sha256').update(thinking).digest('base64')}`;
}

// Top-level request fields of POST /v1/messages (https://docs.anthropic.com/en/api/messages).
const knownFields = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'metadata',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
  'output_config',
]);

/**
 * Fields that exist only under a beta (the `anthropic-beta` header, comma-separated): without it the API
 * answers 400 "Extra inputs are not permitted" as for any unknown field.
 * context_management: https://docs.anthropic.com/en/docs/build-with-claude/context-editing;
 * tool defer_loading / input_examples: https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/tool-search-tool;
 * tool strict: https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs.
 */
const betaFields: [field: string, beta: string][] = [['context_management', 'context-management-2025-06-27']];
const betaToolFields: [field: string, beta: string][] = [
  ['defer_loading', 'advanced-tool-use-2025-11-20'],
  ['input_examples', 'advanced-tool-use-2025-11-20'],
  ['strict', 'structured-outputs-2025-11-13'],
];
const customToolFields = new Set(['type', 'name', 'description', 'input_schema', 'cache_control']);

export function betasOf(header: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  return new Set(
    joined
      .split(',')
      .map((beta) => beta.trim())
      .filter(Boolean),
  );
}

function betaFieldError(body: Json, betas: Set<string>): string | null {
  for (const [field, beta] of betaFields)
    if (body[field] !== undefined && !betas.has(beta)) return `${field}: Extra inputs are not permitted`;
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  for (let index = 0; index < tools.length; index++) {
    const tool = tools[index] as Json;
    if (tool.type !== undefined && tool.type !== 'custom') continue;
    for (const key of Object.keys(tool)) {
      const beta = betaToolFields.find(([field]) => field === key)?.[1];
      if (customToolFields.has(key) || (beta !== undefined && betas.has(beta))) continue;
      return `tools.${index}.custom.${key}: Extra inputs are not permitted`;
    }
  }
  return null;
}

/** Claude version from a model id (claude-opus-4-7 -> 4.7), or null for other names. */
function claudeVersion(model: string): number | null {
  const match = /claude-[a-z]+-(\d{1,2})(?:-(\d{1,2}))?(?!\d)/.exec(model);
  if (!match) return null;
  return Number(match[1]) + (match[2] === undefined ? 0 : Number(match[2]) / 10);
}

export function adaptiveOnly(model: string): boolean {
  const version = claudeVersion(model);
  return model === 'sim-adaptive-only' || (version !== null && (version >= 5 || (model.includes('opus') && version >= 4.7)));
}

/** The Messages API's 400 message for a request it refuses, or null. */
export function validateMessagesRequest(body: Json, version: string, betas: Set<string>): string | null {
  for (const key of Object.keys(body)) if (!knownFields.has(key)) return `${key}: Extra inputs are not permitted`;
  const betaError = betaFieldError(body, betas);
  if (betaError) return betaError;
  if (version >= '2026-10-21') {
    for (const key of ['temperature', 'top_p', 'top_k']) {
      if (body[key] !== undefined) return `${key}: this parameter is not supported in API version ${version}`;
    }
  }
  if (typeof body.model !== 'string') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (/^claude-(sonnet|haiku)-4-5|^claude-opus-4/.test(body.model) && body.temperature !== undefined && body.top_p !== undefined) {
    return 'temperature and top_p cannot both be specified for this model. Please use only one.';
  }
  if (body.model === 'sim-no-temperature' && body.temperature !== undefined) return '`temperature` is deprecated for this model.';
  const messagesList = body.messages as Json[];
  if (messagesList.length === 0) return 'messages: at least one message is required';
  if (body.tool_choice !== undefined && !Array.isArray(body.tools))
    return 'tool_choice: tool_choice may only be specified while providing tools';
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system) || (body.system as Json[]).some((block) => block.type !== 'text' || typeof block.text !== 'string')) {
      return 'system: Input should be a valid string or a list of text blocks';
    }
  }
  for (let index = 0; index < messagesList.length; index++) {
    // Each tool_use must be answered by a tool_result in the next (user) message.
    const message = messagesList[index] as Json;
    const blocks = Array.isArray(message.content) ? (message.content as Json[]) : [];
    const toolUseIds = blocks.filter((block) => block.type === 'tool_use').map((block) => String(block.id));
    if (message.role !== 'assistant' || toolUseIds.length === 0 || index === messagesList.length - 1) continue;
    const next = messagesList[index + 1] as Json;
    const answered = new Set(
      (Array.isArray(next.content) ? (next.content as Json[]) : [])
        .filter((block) => block.type === 'tool_result')
        .map((block) => String(block.tool_use_id)),
    );
    const missing = toolUseIds.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return `messages.${index + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }
  for (let index = 0; index < messagesList.length; index++) {
    const message = messagesList[index] as Json;
    if (message.role !== 'user' && message.role !== 'assistant') {
      return `messages.${index}.role: Input should be 'user' or 'assistant'`;
    }
    if (Array.isArray(message.content)) {
      const blocks = message.content as Json[];
      for (let position = 0; position < blocks.length; position++) {
        const block = blocks[position] as Json;
        if (block.type === 'thinking' && block.signature !== simulatedSignature(String(block.thinking ?? ''))) {
          return `messages.${index}.content.${position}: Invalid \`signature\` in \`thinking\` block`;
        }
        if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) {
          return `messages.${index}.content.${position}.text: text content blocks must be non-empty`;
        }
        if (block.type === 'document' && message.role === 'assistant' && version >= '2026-10-21') {
          return `messages.${index}.content.${position}: document blocks are not allowed in assistant messages`;
        }
        if (block.type === 'tool_result' && position > 0 && blocks[position - 1]?.type !== 'tool_result') {
          return `messages.${index}.content.${position}: tool_result blocks must come first in the user message`;
        }
        if (block.type === 'image') {
          const source = block.source as Json | undefined;
          if (source?.type === 'base64' && !['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(String(source.media_type))) {
            return `messages.${index}.content.${position}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`;
          }
          if (source?.type !== 'base64' && source?.type !== 'url')
            return `messages.${index}.content.${position}.image.source: Input tag '${String(source?.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url'`;
        }
      }
    }
  }
  const thinking = body.thinking as Json | undefined;
  const model = String(body.model);
  const modelVersion = claudeVersion(model);
  if (thinking?.type === 'enabled' && adaptiveOnly(model)) {
    return '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.';
  }
  if (thinking?.type === 'adaptive' && modelVersion !== null && modelVersion < 4.6)
    return 'adaptive thinking is not supported on this model';
  const effort = (body.output_config as Json | undefined)?.effort;
  if (effort !== undefined && !['low', 'medium', 'high', 'max'].includes(String(effort))) {
    return "output_config.effort: Input should be 'low', 'medium', 'high' or 'max'";
  }
  if (thinking?.type === 'adaptive' && body.temperature !== undefined && body.temperature !== 1) {
    return '`temperature` may only be set to 1 when thinking is enabled';
  }
  if (thinking?.type === 'enabled') {
    const budget = Number(thinking.budget_tokens);
    if (!(budget >= 1024)) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
    if (budget >= Number(body.max_tokens)) return '`max_tokens` must be greater than `thinking.budget_tokens`';
    if (body.temperature !== undefined && body.temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled';
  }
  return null;
}
