/**
 * Gemini embeddings inbound (https://ai.google.dev/api/embeddings): `:embedContent` ({content, taskType,
 * title, outputDimensionality} -> {embedding: {values}}) and `:batchEmbedContents` ({requests: [...]} ->
 * {embeddings: [{values}]}), as one canonical `/v1/embeddings` call (text parts joined per request).
 */
import { invalidRequest } from '../core/errors.ts';
import type { Json } from '../providers/types.ts';

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function requestText(request: unknown, param: string): string {
  if (!isObject(request) || !isObject(request.content) || !Array.isArray(request.content.parts)) {
    throw invalidRequest(`${param}.content.parts is required`, `${param}.content`, 'invalid_value');
  }
  const text = (request.content.parts as unknown[]).map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
  if (text === '') throw invalidRequest(`${param}.content has no text to embed`, `${param}.content`, 'invalid_value');
  return text;
}

/** The embed requests of either method -> a canonical embeddings body for `model`. */
export function geminiEmbedToOpenAI(body: Json, model: string, batch: boolean, dropped: string[]): Json {
  const requests: unknown[] = batch ? (Array.isArray(body.requests) ? body.requests : []) : [body];
  if (requests.length === 0) throw invalidRequest('requests must be a non-empty array', 'requests', 'invalid_value');
  const input = requests.map((request, index) => requestText(request, batch ? `requests[${index}]` : 'request'));
  const embeddings: Json = { model, input };
  const first = requests[0] as Json;
  const dimensions = first.outputDimensionality;
  if (dimensions !== undefined) {
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions <= 0) {
      throw invalidRequest('outputDimensionality must be a positive integer', 'outputDimensionality', 'invalid_value');
    }
    embeddings.dimensions = dimensions;
  }
  for (const key of ['taskType', 'title']) if (requests.some((request) => isObject(request) && request[key] !== undefined)) dropped.push(key);
  return embeddings;
}

/** The canonical embeddings answer -> Gemini's shape. */
export function openAIEmbeddingsToGemini(result: unknown, batch: boolean): Json {
  const data = isObject(result) && Array.isArray(result.data) ? result.data.filter(isObject) : [];
  const vectors = data
    .sort((left, right) => Number(left.index ?? 0) - Number(right.index ?? 0))
    .map((item) => ({ values: Array.isArray(item.embedding) ? item.embedding : [] }));
  return batch ? { embeddings: vectors } : { embedding: vectors[0] ?? { values: [] } };
}
