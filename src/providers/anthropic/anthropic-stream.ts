/**
 * Anthropic Messages stream events -> OpenAI chat.completion.chunk payloads, as a stateful translator.
 * Events follow https://docs.anthropic.com/en/docs/build-with-claude/streaming: message_start,
 * content_block_start / content_block_delta (text_delta, input_json_delta, thinking_delta, signature_delta,
 * citations_delta) / content_block_stop, message_delta, message_stop, ping, error.
 * Pure: no I/O; feed it parsed events in order.
 */
import { GatewayError } from '../../core/errors.ts';
import { type Usage, usageToOpenAIChat } from '../../core/usage.ts';
import type { Json, StreamChunk } from '../types.ts';
import { finishReasonFromAnthropic, usageFromAnthropic } from './anthropic-response.ts';

export interface StreamTranslatorOptions {
  created: number;
  /** Whether the client asked for stream_options.include_usage; otherwise the usage chunk is `usageOnly`. */
  includeUsage: boolean;
  jsonToolName: string | null;
  /** Provider instance name, for error messages. */
  provider: string;
}

export interface AnthropicStreamTranslator {
  /** Translates one event (its `type` field names it); returns the chunks to send, possibly none. */
  push(event: Json): StreamChunk[];
  usage(): Usage | null;
  /** True once message_stop was seen. */
  done(): boolean;
}

interface BlockState {
  type: string;
  /** OpenAI tool_calls index, for tool_use blocks. */
  toolIndex?: number;
  jsonTool?: boolean;
  thinking?: string;
  signature?: string;
}

/** Maps an Anthropic error object ({type, message}) met in a stream or body to a GatewayError. */
export function anthropicStreamError(provider: string, error: unknown): GatewayError {
  const details = error && typeof error === 'object' ? (error as Json) : {};
  const type = typeof details.type === 'string' ? details.type : 'api_error';
  const message = typeof details.message === 'string' ? details.message : 'stream error';
  const status = type === 'overloaded_error' ? 503 : type === 'rate_limit_error' ? 429 : type === 'invalid_request_error' ? 400 : 502;
  return new GatewayError(`${provider}: ${message}`, {
    status,
    code: type,
    type: type === 'overloaded_error' ? 'overloaded_error' : 'upstream_error',
    retryable: status === 429 || status >= 500,
    provider,
  });
}

export function createAnthropicStreamTranslator(options: StreamTranslatorOptions): AnthropicStreamTranslator {
  let id = '';
  let model = '';
  const rawUsage: Json = {};
  let sawUsage = false;
  let finished = false;
  let toolCount = 0;
  let jsonAnswered = false;
  const blocks = new Map<number, BlockState>();

  function chunk(delta: Json, finishReason: string | null = null): StreamChunk {
    const payload: Json = {
      id,
      object: 'chat.completion.chunk',
      created: options.created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (options.includeUsage) payload.usage = null;
    return { data: JSON.stringify(payload), json: payload };
  }

  function mergeUsage(raw: unknown): void {
    if (!raw || typeof raw !== 'object') return;
    for (const [key, value] of Object.entries(raw as Json)) if (typeof value === 'number') rawUsage[key] = value;
    sawUsage = true;
  }

  function onBlockStart(index: number, block: Json): StreamChunk[] {
    const type = String(block.type);
    if (type === 'tool_use') {
      if (options.jsonToolName !== null && block.name === options.jsonToolName) {
        blocks.set(index, { type, jsonTool: true });
        jsonAnswered = true;
        return [];
      }
      const toolIndex = toolCount++;
      blocks.set(index, { type, toolIndex });
      return [chunk({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })];
    }
    if (type === 'thinking') {
      blocks.set(index, { type, thinking: '', signature: '' });
      return typeof block.thinking === 'string' && block.thinking !== '' ? [chunk({ reasoning_content: block.thinking })] : [];
    }
    if (type === 'redacted_thinking') {
      blocks.set(index, { type });
      return [chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] })];
    }
    blocks.set(index, { type });
    if (type === 'text' && typeof block.text === 'string' && block.text !== '') return [chunk({ content: block.text })];
    return [];
  }

  function onBlockDelta(index: number, delta: Json): StreamChunk[] {
    const state = blocks.get(index);
    switch (delta.type) {
      case 'text_delta':
        return typeof delta.text === 'string' && delta.text !== '' ? [chunk({ content: delta.text })] : [];
      case 'input_json_delta': {
        const partial = typeof delta.partial_json === 'string' ? delta.partial_json : '';
        if (partial === '') return [];
        if (state?.jsonTool) return [chunk({ content: partial })];
        // Input of server tools (server_tool_use) is the server's business, not a client tool call.
        if (state?.toolIndex === undefined) return [];
        return [chunk({ tool_calls: [{ index: state.toolIndex, function: { arguments: partial } }] })];
      }
      case 'thinking_delta': {
        const thinking = typeof delta.thinking === 'string' ? delta.thinking : '';
        if (state) state.thinking = (state.thinking ?? '') + thinking;
        return thinking === '' ? [] : [chunk({ reasoning_content: thinking })];
      }
      case 'signature_delta':
        if (state) state.signature = (state.signature ?? '') + (typeof delta.signature === 'string' ? delta.signature : '');
        return [];
      default:
        // citations_delta and future delta types have no chat.completion.chunk equivalent.
        return [];
    }
  }

  function onBlockStop(index: number): StreamChunk[] {
    const state = blocks.get(index);
    if (state?.type !== 'thinking') return [];
    // The signed block, whole, so that the client can send it back in the next turn.
    return [chunk({ thinking_blocks: [{ type: 'thinking', thinking: state.thinking ?? '', signature: state.signature ?? '' }] })];
  }

  return {
    push(event) {
      switch (event.type) {
        case 'message_start': {
          const message = (event.message ?? {}) as Json;
          id = typeof message.id === 'string' ? message.id : id;
          model = typeof message.model === 'string' ? message.model : model;
          mergeUsage(message.usage);
          return [chunk({ role: 'assistant', content: '' })];
        }
        case 'content_block_start':
          return onBlockStart(Number(event.index), (event.content_block ?? {}) as Json);
        case 'content_block_delta':
          return onBlockDelta(Number(event.index), (event.delta ?? {}) as Json);
        case 'content_block_stop':
          return onBlockStop(Number(event.index));
        case 'message_delta': {
          mergeUsage(event.usage);
          const delta = (event.delta ?? {}) as Json;
          let finishReason = finishReasonFromAnthropic(delta.stop_reason);
          if (finishReason === null) return [];
          if (jsonAnswered && finishReason === 'tool_calls') finishReason = 'stop';
          return [chunk({}, finishReason)];
        }
        case 'message_stop': {
          finished = true;
          const usage = usageFromAnthropic(rawUsage);
          if (!sawUsage || !usage) return [];
          const payload = {
            id,
            object: 'chat.completion.chunk',
            created: options.created,
            model,
            choices: [],
            usage: usageToOpenAIChat(usage),
          };
          const data = JSON.stringify(payload);
          return [options.includeUsage ? { data, json: payload } : { data, usageOnly: true, json: payload }];
        }
        case 'error':
          throw anthropicStreamError(options.provider, event.error);
        default:
          // ping and future event types carry nothing for the client.
          return [];
      }
    },
    usage() {
      return sawUsage ? usageFromAnthropic(rawUsage) : null;
    },
    done() {
      return finished;
    },
  };
}
