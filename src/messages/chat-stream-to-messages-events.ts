/**
 * chat.completion.chunk stream -> Anthropic Messages stream, following
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming : named SSE events
 *   message_start (Message with empty content), ping,
 *   per content block: content_block_start, content_block_delta (text_delta | input_json_delta |
 *   thinking_delta)*, content_block_stop,
 *   message_delta (delta.stop_reason, delta.stop_sequence, cumulative usage), message_stop.
 * Errors mid-stream are an `error` event: {"type":"error","error":{"type","message"}}.
 */
import type { Usage } from '../core/usage.ts';
import type { Json } from '../providers/types.ts';
import { encodeToolCallId } from '../responses/tool-call-ids.ts';
import { createMessageId, createToolUseId, messageUsage, stopReason } from './chat-to-message.ts';

export interface MessagesEvent {
  event: string;
  data: Json;
}

export interface MessagesStreamTranslator {
  /** message_start and ping; `usage` is what the upstream reported so far (input tokens on the native path). */
  start(usage?: Usage | null): MessagesEvent[];
  add(chunk: Json): MessagesEvent[];
  finish(usage: Usage | null): MessagesEvent[];
  /** The message as streamed so far (for records). */
  message(): Json;
}

interface OpenBlock {
  kind: 'text' | 'thinking' | 'redacted_thinking' | 'tool_use';
  index: number;
  toolIndex?: number;
}

export function createMessagesStreamTranslator(model: string): MessagesStreamTranslator {
  const id = createMessageId();
  const content: Json[] = [];
  let open: OpenBlock | null = null;
  const toolBlocks = new Map<number, OpenBlock>();
  const toolArguments = new Map<number, string>();
  let finishReason: unknown = null;
  let sawToolCall = false;
  let finalStopReason: string | null = null;
  let finalUsage: Json = messageUsage(null);

  function close(events: MessagesEvent[]): void {
    if (!open) return;
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: open.index } });
    open = null;
  }

  function startBlock(events: MessagesEvent[], kind: OpenBlock['kind'], block: Json, toolIndex?: number): OpenBlock {
    close(events);
    const index = content.length;
    content.push(structuredClone(block));
    const created: OpenBlock = { kind, index };
    if (toolIndex !== undefined) created.toolIndex = toolIndex;
    open = created;
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: block } });
    return created;
  }

  function delta(index: number, body: Json): MessagesEvent {
    return { event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: body } };
  }

  return {
    start(usage = null) {
      const message = {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: messageUsage(usage),
      };
      return [
        { event: 'message_start', data: { type: 'message_start', message } },
        { event: 'ping', data: { type: 'ping' } },
      ];
    },
    add(chunk) {
      const events: MessagesEvent[] = [];
      const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
      const choice = choices.find((candidate) => (candidate.index ?? 0) === 0);
      if (!choice) return events;
      const body = (choice.delta ?? {}) as Json;
      const reasoning = body.reasoning_content ?? body.reasoning;
      if (typeof reasoning === 'string' && reasoning !== '') {
        const block = open?.kind === 'thinking' ? open : startBlock(events, 'thinking', { type: 'thinking', thinking: '', signature: '' });
        const target = content[block.index] as Json;
        target.thinking = String(target.thinking) + reasoning;
        events.push(delta(block.index, { type: 'thinking_delta', thinking: reasoning }));
      }
      if (Array.isArray(body.thinking_blocks)) {
        // The Anthropic provider sends each finished thinking block with its signature.
        for (const signed of body.thinking_blocks as Json[]) {
          if (signed.type === 'redacted_thinking') {
            startBlock(events, 'redacted_thinking', { type: 'redacted_thinking', data: signed.data });
            close(events);
            continue;
          }
          let block = open?.kind === 'thinking' ? open : null;
          if (!block) {
            block = startBlock(events, 'thinking', { type: 'thinking', thinking: '', signature: '' });
            const thinking = String(signed.thinking ?? '');
            if (thinking !== '') {
              (content[block.index] as Json).thinking = thinking;
              events.push(delta(block.index, { type: 'thinking_delta', thinking }));
            }
          }
          if (typeof signed.signature === 'string' && signed.signature !== '') {
            (content[block.index] as Json).signature = signed.signature;
            events.push(delta(block.index, { type: 'signature_delta', signature: signed.signature }));
          }
          close(events);
        }
      }
      if (typeof body.content === 'string' && body.content !== '') {
        const block = open?.kind === 'text' ? open : startBlock(events, 'text', { type: 'text', text: '' });
        const target = content[block.index] as Json;
        target.text = String(target.text) + body.content;
        events.push(delta(block.index, { type: 'text_delta', text: body.content }));
      }
      if (Array.isArray(body.tool_calls)) {
        for (const call of body.tool_calls as Json[]) {
          sawToolCall = true;
          const toolIndex = typeof call.index === 'number' ? call.index : toolBlocks.size;
          const fn = (call.function ?? {}) as Json;
          let block = toolBlocks.get(toolIndex);
          if (!block) {
            block = startBlock(
              events,
              'tool_use',
              {
                type: 'tool_use',
                id: encodeToolCallId(typeof call.id === 'string' ? call.id : createToolUseId(), call.extra_content),
                name: typeof fn.name === 'string' ? fn.name : '',
                input: {},
              },
              toolIndex,
            );
            toolBlocks.set(toolIndex, block);
          }
          if (typeof fn.arguments === 'string' && fn.arguments !== '') {
            toolArguments.set(toolIndex, (toolArguments.get(toolIndex) ?? '') + fn.arguments);
            // A late fragment for a block already closed cannot be streamed; it still lands in the record.
            if (open === block) events.push(delta(block.index, { type: 'input_json_delta', partial_json: fn.arguments }));
          }
        }
      }
      if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
      return events;
    },
    finish(usage) {
      const events: MessagesEvent[] = [];
      close(events);
      for (const [toolIndex, block] of toolBlocks) {
        const text = toolArguments.get(toolIndex) ?? '';
        try {
          (content[block.index] as Json).input = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
        } catch {
          (content[block.index] as Json).input = {};
        }
      }
      finalStopReason = sawToolCall && finishReason === 'stop' ? 'tool_use' : stopReason(finishReason);
      finalUsage = messageUsage(usage);
      events.push({
        event: 'message_delta',
        data: { type: 'message_delta', delta: { stop_reason: finalStopReason, stop_sequence: null }, usage: finalUsage },
      });
      events.push({ event: 'message_stop', data: { type: 'message_stop' } });
      return events;
    },
    message() {
      return {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: finalStopReason,
        stop_sequence: null,
        usage: finalUsage,
      };
    },
  };
}
