/**
 * A prompt can choose the tool call a simulator answers with: the directive
 * `[[sim-tool NAME {"some":"input"}]]` in the last user text makes the Anthropic, OpenAI chat and OpenAI
 * Responses simulators call the tool NAME with that JSON input (when the request offers a tool of that name),
 * instead of their default (the first tool with `{"location":"Paris"}`). Once the tool's result comes back
 * (the conversation ends with it), they answer `Tool said: <result>` as usual.
 *
 * The real coding-agent CLI tests (test/coding-agent-clis*.test.ts) use it: the agent gets a prompt naming one
 * of its own tools (Claude Code's Write, Codex's exec_command) with arguments it can run locally without an
 * approval prompt, so the whole round trip (tool call out, local execution, tool result back) is
 * deterministic and follows from the request content alone.
 */

type Json = Record<string, unknown>;

export interface ScriptedToolCall {
  name: string;
  input: Json;
}

const marker = '[[sim-tool ';

/** The directive in `text` for one of `toolNames`, or undefined (no directive, unknown tool, or input not a JSON object). */
export function scriptedToolCall(text: string, toolNames: readonly string[]): ScriptedToolCall | undefined {
  const start = text.lastIndexOf(marker);
  if (start < 0) return undefined;
  const rest = text.slice(start + marker.length);
  const space = rest.indexOf(' ');
  const end = rest.indexOf('}]]');
  if (space <= 0 || end < space) return undefined;
  const name = rest.slice(0, space);
  if (!toolNames.includes(name)) return undefined;
  try {
    const input = JSON.parse(rest.slice(space + 1, end + 1)) as unknown;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
    return { name, input: input as Json };
  } catch {
    return undefined;
  }
}
