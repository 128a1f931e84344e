/**
 * `:countTokens` (https://ai.google.dev/api/tokens): `{contents}` or `{generateContentRequest}` ->
 * `{totalTokens}`. An estimate (about four characters per token over text, function calls and responses,
 * system instruction and tools; media at a flat 258 tokens, Gemini's figure for an image), marked by the
 * `x-modelgate-estimate: true` header, the same rule as /v1/messages/count_tokens.
 */
import { invalidRequest } from '../core/errors.ts';
import type { GatewayReply, GatewayRequest } from '../http/types.ts';
import type { Json } from '../providers/types.ts';
import { requireObjectBody } from '../routes/model-call.ts';

const mediaTokens = 258;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Characters of text in a value, with media parts counted as their flat token rate (in characters). */
function characters(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (Array.isArray(value)) return value.reduce<number>((total, item) => total + characters(item), 0);
  if (!isObject(value)) return 0;
  if (isObject(value.inlineData) || isObject(value.fileData)) return mediaTokens * 4;
  return Object.entries(value).reduce<number>(
    (total, [key, item]) => total + (key === 'role' || key === 'thoughtSignature' ? 0 : characters(item)),
    0,
  );
}

export async function countTokens(request: GatewayRequest): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  const generate = isObject(body.generateContentRequest) ? body.generateContentRequest : body;
  if (!Array.isArray(generate.contents)) throw invalidRequest('contents must be an array', 'contents', 'invalid_value');
  const total = characters(generate.contents) + characters(generate.systemInstruction) + characters(generate.tools);
  return {
    kind: 'json',
    status: 200,
    headers: { 'x-modelgate-estimate': 'true' },
    body: { totalTokens: total === 0 ? 0 : Math.max(1, Math.ceil(total / 4)) },
  };
}
