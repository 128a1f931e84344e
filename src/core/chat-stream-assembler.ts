/**
 * Reassembles chat.completion.chunk payloads into one chat.completion object, for audit records
 * and for translators that need the whole message.
 */
type Json = Record<string, unknown>;

interface ToolCallDraft {
  id?: string;
  type: string;
  function: { name: string; arguments: string };
}

interface ChoiceDraft {
  index: number;
  role: string;
  content: string;
  reasoning: string;
  hasContent: boolean;
  refusal: string | null;
  toolCalls: ToolCallDraft[];
  finishReason: string | null;
}

export interface ChatStreamAssembler {
  add(chunk: Json): void;
  result(): Json;
}

export function createChatStreamAssembler(): ChatStreamAssembler {
  let id = '';
  let model = '';
  let created = 0;
  let systemFingerprint: unknown;
  let usage: unknown = null;
  const choices = new Map<number, ChoiceDraft>();
  return {
    add(chunk) {
      if (typeof chunk.id === 'string' && !id) id = chunk.id;
      if (typeof chunk.model === 'string' && !model) model = chunk.model;
      if (typeof chunk.created === 'number' && !created) created = chunk.created;
      if (chunk.system_fingerprint !== undefined) systemFingerprint = chunk.system_fingerprint;
      if (chunk.usage) usage = chunk.usage;
      if (!Array.isArray(chunk.choices)) return;
      for (const raw of chunk.choices as Json[]) {
        const index = typeof raw.index === 'number' ? raw.index : 0;
        let choice = choices.get(index);
        if (!choice) {
          choice = { index, role: 'assistant', content: '', reasoning: '', hasContent: false, refusal: null, toolCalls: [], finishReason: null };
          choices.set(index, choice);
        }
        const delta = (raw.delta ?? {}) as Json;
        if (typeof delta.role === 'string') choice.role = delta.role;
        if (typeof delta.content === 'string') {
          choice.content += delta.content;
          choice.hasContent = true;
        }
        if (typeof delta.reasoning_content === 'string') choice.reasoning += delta.reasoning_content;
        if (typeof delta.refusal === 'string') choice.refusal = (choice.refusal ?? '') + delta.refusal;
        if (Array.isArray(delta.tool_calls)) {
          for (const call of delta.tool_calls as Json[]) {
            const callIndex = typeof call.index === 'number' ? call.index : choice.toolCalls.length;
            let draft = choice.toolCalls[callIndex];
            if (!draft) {
              draft = { type: 'function', function: { name: '', arguments: '' } };
              choice.toolCalls[callIndex] = draft;
            }
            if (typeof call.id === 'string') draft.id = call.id;
            if (typeof call.type === 'string') draft.type = call.type;
            const fn = (call.function ?? {}) as Json;
            if (typeof fn.name === 'string') draft.function.name += fn.name;
            if (typeof fn.arguments === 'string') draft.function.arguments += fn.arguments;
          }
        }
        if (typeof raw.finish_reason === 'string') choice.finishReason = raw.finish_reason;
      }
    },
    result() {
      const assembled: Json = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [...choices.values()]
          .sort((a, b) => a.index - b.index)
          .map((choice) => {
            const message: Json = { role: choice.role, content: choice.hasContent ? choice.content : null };
            if (choice.reasoning) message.reasoning_content = choice.reasoning;
            if (choice.refusal !== null) message.refusal = choice.refusal;
            const toolCalls = choice.toolCalls.filter(Boolean);
            if (toolCalls.length > 0) message.tool_calls = toolCalls;
            return { index: choice.index, message, finish_reason: choice.finishReason };
          }),
        usage,
      };
      if (systemFingerprint !== undefined) assembled.system_fingerprint = systemFingerprint;
      return assembled;
    },
  };
}
