/**
 * OpenAI chat `tools` and `tool_choice` -> Anthropic tools (name, description, input_schema) and
 * tool_choice (auto/any/tool/none), https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use.
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Json } from '../types.ts';
import { isObject, withCacheControl } from './anthropic-request-messages.ts';

export function translateTools(body: Json, dropped: string[]): Json[] | undefined {
  let tools = body.tools;
  if (tools === undefined && Array.isArray(body.functions)) {
    tools = body.functions.map((fn) => ({ type: 'function', function: fn }));
  }
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array", 'tools');
  const result: Json[] = [];
  tools.forEach((raw, index) => {
    if (!isObject(raw)) throw invalidRequest(`tools[${index}] must be an object`, `tools[${index}]`);
    const tool = raw;
    if (tool.type === 'function') {
      const fn = isObject(tool.function) ? tool.function : {};
      if (typeof fn.name !== 'string') throw invalidRequest(`tools[${index}].function.name is required`, `tools[${index}].function.name`);
      const converted: Json = { name: fn.name };
      if (typeof fn.description === 'string') converted.description = fn.description;
      converted.input_schema = isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
      if (fn.strict === true) dropped.push('tools[].function.strict');
      result.push(withCacheControl(converted, isObject(tool.cache_control) ? tool : fn));
    } else if (typeof tool.type === 'string' && typeof tool.name === 'string' && tool.type !== 'custom') {
      // Anthropic-native tool (web_search_20250305, bash_20250124...): passed as it is.
      result.push(tool);
    } else if (typeof tool.name === 'string' && isObject(tool.input_schema) && (tool.type === undefined || tool.type === 'custom')) {
      // A custom tool already in Anthropic's shape (from /v1/messages): passed as it is, with strict,
      // defer_loading, input_examples and cache_control.
      result.push(tool);
    } else {
      dropped.push(`tools[].${String(tool.type)}`);
    }
  });
  return result;
}

export function translateToolChoice(body: Json, hasTools: boolean): Json | undefined {
  let choice = body.tool_choice;
  if (choice === undefined && body.function_call !== undefined) {
    const legacy = body.function_call;
    choice = isObject(legacy) ? { type: 'function', function: { name: legacy.name } } : legacy;
  }
  let result: Json | undefined;
  if (choice === 'auto') result = { type: 'auto' };
  else if (choice === 'required') result = { type: 'any' };
  else if (choice === 'none') result = { type: 'none' };
  else if (isObject(choice)) {
    const fn = isObject(choice.function) ? choice.function : {};
    const allowed = isObject(choice.allowed_tools) ? choice.allowed_tools : undefined;
    if (choice.type === 'function' && typeof fn.name === 'string') result = { type: 'tool', name: fn.name };
    else if (choice.type === 'allowed_tools' && allowed) {
      // The tool list is narrowed to the allowed ones by the caller; the mode maps like the plain strings.
      result = { type: allowed.mode === 'required' ? 'any' : 'auto' };
    } else if (choice.type === 'auto' || choice.type === 'any' || choice.type === 'none') result = { ...choice };
    else if (choice.type === 'tool' && typeof choice.name === 'string') result = { ...choice };
    else throw invalidRequest("'tool_choice' is not valid", 'tool_choice');
  } else if (choice !== undefined && choice !== null) {
    throw invalidRequest("'tool_choice' must be 'auto', 'required', 'none' or a named function", 'tool_choice');
  }
  if (!hasTools) return undefined;
  if (body.parallel_tool_calls === false) {
    result ??= { type: 'auto' };
    if (result.type !== 'none') result.disable_parallel_tool_use = true;
  }
  return result;
}
