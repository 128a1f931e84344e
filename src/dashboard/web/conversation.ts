/** Reads the messages of a logged call (chat, Responses or Messages bodies) for the conversation view. */

export interface ThreadMessage {
  role: string;
  text: string;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part;
        const record = part as Record<string, unknown>;
        if (typeof record.text === 'string') return record.text;
        if (record.type === 'image_url' || record.type === 'input_image' || record.type === 'image') return '[image]';
        return '';
      })
      .filter(Boolean)
      .join('\n');
  }
  if (content && typeof content === 'object' && typeof (content as { text?: unknown }).text === 'string')
    return (content as { text: string }).text;
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

/** The messages a request sent (chat `messages`, Responses `input`/`instructions`, Messages `system` + `messages`). */
export function requestMessages(body: unknown): ThreadMessage[] {
  if (!body || typeof body !== 'object') return [];
  const record = body as Record<string, unknown>;
  const messages: ThreadMessage[] = [];
  if (typeof record.system === 'string' || Array.isArray(record.system)) messages.push({ role: 'system', text: textOf(record.system) });
  if (typeof record.instructions === 'string') messages.push({ role: 'system', text: record.instructions });
  const list = Array.isArray(record.messages)
    ? record.messages
    : Array.isArray(record.input)
      ? record.input
      : typeof record.input === 'string'
        ? [{ role: 'user', content: record.input }]
        : [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const message = item as Record<string, unknown>;
    messages.push({
      role: typeof message.role === 'string' ? message.role : String(message.type ?? 'item'),
      text: textOf(message.content ?? message.output ?? ''),
    });
  }
  return messages;
}

/** The answer's text (chat `choices[0].message`, Responses `output`, Messages `content`). */
export function responseMessage(body: unknown): ThreadMessage | null {
  if (!body || typeof body !== 'object') return null;
  const record = body as Record<string, unknown>;
  const choices = record.choices as { message?: { role?: string; content?: unknown; tool_calls?: unknown } }[] | undefined;
  const message = choices?.[0]?.message;
  if (message) {
    const text = textOf(message.content ?? '') || (message.tool_calls ? `[tool calls] ${JSON.stringify(message.tool_calls)}` : '');
    return { role: message.role ?? 'assistant', text };
  }
  if (Array.isArray(record.output)) {
    const text = record.output
      .map((item) => textOf((item as { content?: unknown }).content ?? ''))
      .filter(Boolean)
      .join('\n');
    return { role: 'assistant', text };
  }
  if (Array.isArray(record.content)) return { role: 'assistant', text: textOf(record.content) };
  if (record.error) return { role: 'error', text: textOf((record.error as { message?: unknown }).message ?? record.error) };
  return null;
}
