/**
 * OpenAI chat request -> Anthropic Messages request (https://docs.anthropic.com/en/api/messages).
 * Pure: no I/O. Parameters without an Anthropic equivalent are listed in `droppedParams`, never lost silently.
 * The mapping table lives in docs/providers-anthropic.md.
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Json } from '../types.ts';
import { isObject, translateMessages } from './anthropic-request-messages.ts';
import { translateToolChoice, translateTools } from './anthropic-request-tools.ts';
import { applyReasoningEffort, defaultAnthropicMaxTokens, thinkingBudgets, thinkingStyleFor } from './anthropic-thinking.ts';

/** Name of the tool used for response_format json_schema (see docs/providers-anthropic.md). */
export const jsonResponseToolName = 'json_response';

const jsonObjectInstruction = 'Respond with a single valid JSON object and nothing else: no prose, no code fences.';

/** Anthropic-native fields accepted as they are on the OpenAI-shaped request. */
const nativePassThrough = ['top_k', 'container', 'mcp_servers', 'context_management', 'output_config'];

/** Values of unmappable OpenAI fields that ask for nothing (the defaults): not worth a dropped-param report. */
const neutralValues: Record<string, unknown> = {
  frequency_penalty: 0,
  presence_penalty: 0,
  logprobs: false,
  store: false,
  top_logprobs: 0,
};

/** Fields this module consumes. */
const handled = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'functions',
  'function_call',
  'user',
  'safety_identifier',
  'metadata',
  'response_format',
  'reasoning_effort',
  'thinking',
  'n',
  'service_tier',
  ...nativePassThrough,
]);

export interface AnthropicRequestTranslation {
  body: Json;
  droppedParams: string[];
  /** Set when response_format json_schema is served through a forced tool: its tool_use becomes the content. */
  jsonToolName: string | null;
  /** Whether the client asked for stream usage (stream_options.include_usage). */
  includeUsage: boolean;
  /** The reasoning_effort behind `thinking`, when the gateway chose the thinking form (the provider may switch style). */
  reasoningEffort: string | null;
  /** max_tokens / max_completion_tokens as the client set it. */
  clientMaxTokens: number | undefined;
}


function maxTokensOf(body: Json): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    const param = body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
    throw invalidRequest(`'${param}' must be a positive integer`, param);
  }
  return value;
}

function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
    throw invalidRequest("'stop' must be a string or an array of strings", 'stop');
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

function schemaInstruction(format: Json): string {
  const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
  return schema === undefined
    ? jsonObjectInstruction
    : `${jsonObjectInstruction} The JSON must match this JSON Schema: ${JSON.stringify(schema)}`;
}

export function toAnthropicRequest(body: Json): AnthropicRequestTranslation {
  const dropped: string[] = [];
  if (!Array.isArray(body.messages)) throw invalidRequest("'messages' must be an array", 'messages');
  const { system, messages } = translateMessages(body.messages, dropped);
  const out: Json = { model: body.model };

  // Thinking: a native `thinking` object wins; otherwise reasoning_effort picks a budget or an effort.
  const clientMaxTokens = maxTokensOf(body);
  out.max_tokens = clientMaxTokens ?? defaultAnthropicMaxTokens;
  out.messages = messages;
  for (const name of nativePassThrough) if (body[name] !== undefined) out[name] = body[name];
  let reasoningEffort: string | null = null;
  if (isObject(body.thinking)) {
    out.thinking = body.thinking;
  } else if (body.reasoning_effort !== undefined && body.reasoning_effort !== null && body.reasoning_effort !== 'none') {
    const effort = body.reasoning_effort;
    if (typeof effort !== 'string' || thinkingBudgets[effort] === undefined) {
      throw invalidRequest(`'reasoning_effort' must be one of none, ${Object.keys(thinkingBudgets).join(', ')}`, 'reasoning_effort');
    }
    if (applyReasoningEffort(out, effort, thinkingStyleFor(body.model), clientMaxTokens)) reasoningEffort = effort;
    else dropped.push('reasoning_effort');
  }
  const thinking = isObject(out.thinking) ? out.thinking : undefined;
  const thinkingOn = thinking?.type === 'enabled' || thinking?.type === 'adaptive';

  const stop = stopSequences(body.stop);
  if (stop) out.stop_sequences = stop;
  if (body.temperature !== undefined && body.temperature !== null) {
    // With thinking on Anthropic only accepts temperature 1.
    if (thinkingOn && body.temperature !== 1) dropped.push('temperature');
    else out.temperature = body.temperature;
  }
  if (body.top_p !== undefined && body.top_p !== null) out.top_p = body.top_p;

  let tools = translateTools(body, dropped);
  const allowedTools =
    isObject(body.tool_choice) && body.tool_choice.type === 'allowed_tools' && isObject(body.tool_choice.allowed_tools)
      ? body.tool_choice.allowed_tools.tools
      : undefined;
  if (tools && Array.isArray(allowedTools)) {
    // tool_choice {type: allowed_tools, allowed_tools: {mode, tools: [{type: function, function: {name}}]}}
    const names = new Set(
      allowedTools.map((entry) =>
        isObject(entry) && isObject(entry.function) ? entry.function.name : isObject(entry) ? entry.name : undefined,
      ),
    );
    tools = tools.filter((tool) => names.has(tool.name));
  }
  const hasTools = tools !== undefined && tools.length > 0;
  if (hasTools) out.tools = tools;
  const toolChoice = translateToolChoice(body, hasTools);
  if (toolChoice) out.tool_choice = toolChoice;

  // response_format: json_schema through a forced tool when nothing else competes for tool_choice,
  // otherwise (and for json_object) through a system instruction.
  let jsonToolName: string | null = null;
  const format = body.response_format;
  if (isObject(format) && (format.type === 'json_object' || format.type === 'json_schema')) {
    const schema = isObject(format.json_schema) && isObject(format.json_schema.schema) ? format.json_schema.schema : undefined;
    if (format.type === 'json_schema' && schema && !hasTools && !thinkingOn) {
      jsonToolName = jsonResponseToolName;
      const description =
        isObject(format.json_schema) && typeof format.json_schema.description === 'string'
          ? format.json_schema.description
          : 'Respond with the answer as this tool\u2019s input.';
      out.tools = [{ name: jsonToolName, description, input_schema: schema }];
      out.tool_choice = { type: 'tool', name: jsonToolName };
    } else {
      system.push({ type: 'text', text: schemaInstruction(format) });
    }
  } else if (isObject(format) && format.type !== 'text') {
    throw invalidRequest("'response_format.type' must be text, json_object or json_schema", 'response_format');
  }

  if (system.length > 0) {
    const plain = system.length === 1 && system[0]?.cache_control === undefined;
    out.system = plain ? system[0]?.text : system;
  }

  const metadata: Json = {};
  const userId = body.user ?? body.safety_identifier ?? (isObject(body.metadata) ? body.metadata.user_id : undefined);
  if (typeof userId === 'string' && userId !== '') metadata.user_id = userId;
  if (isObject(body.metadata) && Object.keys(body.metadata).some((key) => key !== 'user_id')) dropped.push('metadata');
  if (Object.keys(metadata).length > 0) out.metadata = metadata;

  if (body.service_tier !== undefined && body.service_tier !== null) {
    if (body.service_tier === 'auto' || body.service_tier === 'standard_only') out.service_tier = body.service_tier;
    else if (body.service_tier === 'default') out.service_tier = 'standard_only';
    else dropped.push('service_tier');
  }
  if (typeof body.n === 'number' && body.n !== 1) dropped.push('n');
  if (body.stream === true) out.stream = true;

  for (const key of Object.keys(body)) {
    if (handled.has(key)) continue;
    if (body[key] === undefined || body[key] === null || neutralValues[key] === body[key]) continue;
    // OpenAI fields without an Anthropic equivalent (frequency_penalty, presence_penalty, logit_bias, logprobs,
    // seed, modalities, audio, prediction, store...) and unknown fields alike: Anthropic rejects fields it does not know.
    dropped.push(key);
  }
  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  return { body: out, droppedParams: [...new Set(dropped)], jsonToolName, includeUsage, reasoningEffort, clientMaxTokens };
}
