/**
 * chat.completion.chunk stream -> OpenAI Responses streaming events, following
 * https://platform.openai.com/docs/api-reference/responses-streaming : every event is sent as
 * `event: <type>` + `data: {"type":<type>,"sequence_number":n,...}`, numbered from 0:
 *   response.created, response.in_progress,
 *   per output item: response.output_item.added,
 *     message: response.content_part.added, response.output_text.delta*, response.output_text.done,
 *              response.content_part.done
 *     function_call: response.function_call_arguments.delta*, response.function_call_arguments.done
 *     reasoning: response.content_part.added (reasoning_text), response.reasoning_text.delta*,
 *                response.reasoning_text.done, response.content_part.done
 *   response.output_item.done,
 *   then response.completed (or response.incomplete when the output was cut, response.failed + error
 *   when the upstream failed mid-stream). There is no `data: [DONE]` sentinel.
 */
import type { Usage } from '../core/usage.ts';
import type { Json } from '../providers/types.ts';
import { incompleteReason, outputTextPart, type ResponseShell, responseEnvelope, responseUsage } from './chat-to-response.ts';
import { createItemId } from './ids.ts';
import { customToolInput, customToolNames } from './responses-to-chat.ts';
import { encodeThinkingBlocks, encodeToolCallId } from './tool-call-ids.ts';

export interface ResponsesEvent {
  event: string;
  data: Json;
}

interface OpenItem {
  kind: 'message' | 'reasoning' | 'function_call' | 'custom_tool_call';
  outputIndex: number;
  item: Json;
  text: string;
  /** Chat tool call index, for function calls. */
  toolIndex?: number;
  /** Signed thinking blocks (Anthropic provider), for reasoning items. */
  thinkingBlocks?: Json[];
}

export interface ResponsesStreamTranslator {
  start(): ResponsesEvent[];
  add(chunk: Json): ResponsesEvent[];
  /** Closes open items and returns the terminal event; `response` is the final Response object. */
  finish(usage: Usage | null): { events: ResponsesEvent[]; response: Json };
  /** Events for an upstream failure mid-stream: `error`, then `response.failed`. */
  fail(error: { message: string; code: string | null; param: string | null }): ResponsesEvent[];
}

export function createResponsesStreamTranslator(shell: ResponseShell): ResponsesStreamTranslator {
  let sequence = 0;
  const output: Json[] = [];
  let open: OpenItem | null = null;
  const toolItems = new Map<number, OpenItem>();
  let finishReason: unknown = null;
  const customNames = customToolNames(shell.request.tools);

  function event(type: string, fields: Json): ResponsesEvent {
    const data: Json = { type, sequence_number: sequence, ...fields };
    sequence += 1;
    return { event: type, data };
  }

  function snapshot(status: string): Json {
    const response = responseEnvelope(shell, status);
    response.output = structuredClone(output);
    return response;
  }

  function closeOpen(events: ResponsesEvent[]): void {
    const current = open;
    if (!current) return;
    open = null;
    const itemId = String(current.item.id);
    const outputIndex = current.outputIndex;
    if (current.kind === 'message') {
      const part = outputTextPart(current.text);
      events.push(
        event('response.output_text.done', {
          item_id: itemId,
          output_index: outputIndex,
          content_index: 0,
          text: current.text,
          logprobs: [],
        }),
      );
      events.push(event('response.content_part.done', { item_id: itemId, output_index: outputIndex, content_index: 0, part }));
      current.item.content = [part];
    } else if (current.kind === 'reasoning') {
      const part = { type: 'reasoning_text', text: current.text };
      events.push(
        event('response.reasoning_text.done', { item_id: itemId, output_index: outputIndex, content_index: 0, text: current.text }),
      );
      events.push(event('response.content_part.done', { item_id: itemId, output_index: outputIndex, content_index: 0, part }));
      current.item.content = [part];
      if (current.thinkingBlocks && current.thinkingBlocks.length > 0)
        current.item.encrypted_content = encodeThinkingBlocks(current.thinkingBlocks);
    } else if (current.kind === 'custom_tool_call') {
      // Chat streams the JSON wrapper {"input": ...}; the raw input is known once the call is complete.
      const input = customToolInput(current.text);
      current.item.input = input;
      if (input !== '')
        events.push(event('response.custom_tool_call_input.delta', { item_id: itemId, output_index: outputIndex, delta: input }));
      events.push(event('response.custom_tool_call_input.done', { item_id: itemId, output_index: outputIndex, input }));
    } else {
      current.item.arguments = current.text;
      events.push(
        event('response.function_call_arguments.done', {
          item_id: itemId,
          output_index: outputIndex,
          name: current.item.name,
          arguments: current.text,
        }),
      );
    }
    if (current.kind === 'message' || current.kind === 'function_call') current.item.status = 'completed';
    output[outputIndex] = current.item;
    events.push(event('response.output_item.done', { output_index: outputIndex, item: structuredClone(current.item) }));
  }

  function openItem(events: ResponsesEvent[], kind: OpenItem['kind'], item: Json, toolIndex?: number): OpenItem {
    closeOpen(events);
    const outputIndex = output.length;
    output.push(item);
    const current: OpenItem = { kind, outputIndex, item, text: '' };
    if (toolIndex !== undefined) current.toolIndex = toolIndex;
    open = current;
    events.push(event('response.output_item.added', { output_index: outputIndex, item: structuredClone(item) }));
    if (kind === 'message') {
      events.push(
        event('response.content_part.added', { item_id: item.id, output_index: outputIndex, content_index: 0, part: outputTextPart('') }),
      );
    } else if (kind === 'reasoning') {
      events.push(
        event('response.content_part.added', {
          item_id: item.id,
          output_index: outputIndex,
          content_index: 0,
          part: { type: 'reasoning_text', text: '' },
        }),
      );
    }
    return current;
  }

  return {
    start() {
      return [
        event('response.created', { response: snapshot('in_progress') }),
        event('response.in_progress', { response: snapshot('in_progress') }),
      ];
    },
    add(chunk) {
      const events: ResponsesEvent[] = [];
      const choices = Array.isArray(chunk.choices) ? (chunk.choices as Json[]) : [];
      const choice = choices.find((candidate) => (candidate.index ?? 0) === 0);
      if (!choice) return events;
      const delta = (choice.delta ?? {}) as Json;
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === 'string' && reasoning !== '') {
        const current =
          open?.kind === 'reasoning'
            ? open
            : openItem(events, 'reasoning', { id: createItemId('rs'), type: 'reasoning', summary: [], content: [] });
        current.text += reasoning;
        events.push(
          event('response.reasoning_text.delta', {
            item_id: current.item.id,
            output_index: current.outputIndex,
            content_index: 0,
            delta: reasoning,
          }),
        );
      }
      if (Array.isArray(delta.thinking_blocks) && delta.thinking_blocks.length > 0) {
        const current =
          open?.kind === 'reasoning'
            ? open
            : openItem(events, 'reasoning', { id: createItemId('rs'), type: 'reasoning', summary: [], content: [] });
        current.thinkingBlocks = [...(current.thinkingBlocks ?? []), ...(delta.thinking_blocks as Json[])];
        if (current.text === '') {
          const text = (delta.thinking_blocks as Json[])
            .map((block) => (typeof block.thinking === 'string' ? block.thinking : ''))
            .join('');
          if (text !== '') {
            current.text = text;
            events.push(
              event('response.reasoning_text.delta', {
                item_id: current.item.id,
                output_index: current.outputIndex,
                content_index: 0,
                delta: text,
              }),
            );
          }
        }
      }
      if (typeof delta.content === 'string' && delta.content !== '') {
        const current =
          open?.kind === 'message'
            ? open
            : openItem(events, 'message', {
                id: createItemId('msg'),
                type: 'message',
                status: 'in_progress',
                role: 'assistant',
                content: [],
              });
        current.text += delta.content;
        events.push(
          event('response.output_text.delta', {
            item_id: current.item.id,
            output_index: current.outputIndex,
            content_index: 0,
            delta: delta.content,
            logprobs: [],
          }),
        );
      }
      if (Array.isArray(delta.tool_calls)) {
        for (const raw of delta.tool_calls as Json[]) {
          const toolIndex = typeof raw.index === 'number' ? raw.index : toolItems.size;
          const fn = (raw.function ?? {}) as Json;
          let current = toolItems.get(toolIndex);
          if (!current && customNames.has(String(fn.name))) {
            current = openItem(
              events,
              'custom_tool_call',
              {
                id: createItemId('ctc'),
                type: 'custom_tool_call',
                call_id: encodeToolCallId(typeof raw.id === 'string' ? raw.id : createItemId('ctc'), raw.extra_content),
                name: String(fn.name),
                input: '',
              },
              toolIndex,
            );
            toolItems.set(toolIndex, current);
          }
          if (!current) {
            current = openItem(
              events,
              'function_call',
              {
                id: createItemId('fc'),
                type: 'function_call',
                status: 'in_progress',
                arguments: '',
                call_id: encodeToolCallId(typeof raw.id === 'string' ? raw.id : createItemId('fc'), raw.extra_content),
                name: typeof fn.name === 'string' ? fn.name : '',
              },
              toolIndex,
            );
            toolItems.set(toolIndex, current);
          } else if (open !== current) {
            // Arguments for a call that is no longer the open item: keep them, no event can carry them now.
            if (typeof fn.arguments === 'string') current.text += fn.arguments;
            continue;
          }
          if (current.kind === 'custom_tool_call') {
            if (typeof fn.arguments === 'string') current.text += fn.arguments;
            continue;
          }
          if (typeof fn.arguments === 'string' && fn.arguments !== '') {
            current.text += fn.arguments;
            events.push(
              event('response.function_call_arguments.delta', {
                item_id: current.item.id,
                output_index: current.outputIndex,
                delta: fn.arguments,
              }),
            );
          }
        }
      }
      if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
      return events;
    },
    finish(usage) {
      const events: ResponsesEvent[] = [];
      closeOpen(events);
      // Fragments of interleaved tool calls that arrived after their item closed still belong in the result.
      for (const call of toolItems.values()) {
        const item = output[call.outputIndex];
        if (item?.type === 'custom_tool_call') item.input = customToolInput(call.text);
        else if (item) item.arguments = call.text;
      }
      const reason = incompleteReason(finishReason);
      const response = snapshot(reason ? 'incomplete' : 'completed');
      if (reason) response.incomplete_details = { reason };
      response.usage = responseUsage(usage);
      events.push(event(reason ? 'response.incomplete' : 'response.completed', { response }));
      return { events, response };
    },
    fail(error) {
      const response = snapshot('failed');
      response.error = { code: error.code ?? 'server_error', message: error.message };
      return [event('error', { code: error.code, message: error.message, param: error.param }), event('response.failed', { response })];
    },
  };
}
