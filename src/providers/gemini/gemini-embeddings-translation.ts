/**
 * Pure translation between OpenAI embeddings and Gemini's embedContent / batchEmbedContents
 * (https://ai.google.dev/api/embeddings).
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Usage } from '../../core/usage.ts';
import type { Json } from '../types.ts';

export interface GeminiEmbeddingsRequest {
  model: string;
  /** `embedContent` for one input, `batchEmbedContents` for several. */
  action: 'embedContent' | 'batchEmbedContents';
  body: Json;
  encoding: 'float' | 'base64';
}

const handledParams = new Set(['model', 'input', 'dimensions', 'encoding_format']);

/** OpenAI embeddings request -> Gemini request. Token-array inputs have no Gemini equivalent and are rejected. */
export function embeddingsRequestToGemini(body: Json, droppedParams: string[]): GeminiEmbeddingsRequest {
  const model = typeof body.model === 'string' ? body.model.replace(/^models\//, '') : '';
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  if (texts.length === 0) throw invalidRequest("'input' must be a string or an array of strings", 'input', 'invalid_value');
  texts.forEach((text: unknown, index) => {
    if (typeof text !== 'string') {
      throw invalidRequest(
        'Gemini embeddings take text input only (token arrays are not supported)',
        Array.isArray(input) ? `input[${index}]` : 'input',
        'invalid_value',
      );
    }
  });
  const dimensions = body.dimensions;
  if (
    dimensions !== undefined &&
    dimensions !== null &&
    (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions <= 0)
  ) {
    throw invalidRequest("'dimensions' must be a positive integer", 'dimensions', 'invalid_value');
  }
  const encodingFormat = body.encoding_format;
  if (encodingFormat !== undefined && encodingFormat !== null && encodingFormat !== 'float' && encodingFormat !== 'base64') {
    throw invalidRequest("'encoding_format' must be 'float' or 'base64'", 'encoding_format', 'invalid_value');
  }
  for (const key of Object.keys(body)) {
    if (!handledParams.has(key) && body[key] !== undefined && body[key] !== null) droppedParams.push(key);
  }
  const single = (text: string): Json => {
    const request: Json = { model: `models/${model}`, content: { parts: [{ text }] } };
    if (typeof dimensions === 'number') request.outputDimensionality = dimensions;
    return request;
  };
  const encoding = encodingFormat === 'base64' ? 'base64' : 'float';
  if (texts.length === 1) return { model, action: 'embedContent', body: single(texts[0] as string), encoding };
  return { model, action: 'batchEmbedContents', body: { requests: (texts as string[]).map(single) }, encoding };
}

/** Little-endian float32 base64, the encoding OpenAI returns for `encoding_format: "base64"`. */
export function floatsToBase64(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => {
    buffer.writeFloatLE(value, index * 4);
  });
  return buffer.toString('base64');
}

function valuesOf(embedding: unknown): number[] {
  const values = embedding && typeof embedding === 'object' ? (embedding as Json).values : undefined;
  return Array.isArray(values) ? values.filter((value): value is number => typeof value === 'number') : [];
}

/** Gemini embedContent / batchEmbedContents response -> OpenAI embeddings list. */
export function geminiEmbeddingsToOpenAI(response: Json, request: GeminiEmbeddingsRequest): { body: Json; usage: Usage } {
  const vectors =
    request.action === 'embedContent'
      ? [valuesOf(response.embedding)]
      : (Array.isArray(response.embeddings) ? response.embeddings : []).map(valuesOf);
  const data = vectors.map((values, index) => ({
    object: 'embedding',
    index,
    embedding: request.encoding === 'base64' ? floatsToBase64(values) : values,
  }));
  // The Gemini API does not report token counts for embeddings; usageMetadata is read where present.
  const metadata = response.usageMetadata as Json | undefined;
  const tokens = typeof metadata?.promptTokenCount === 'number' ? metadata.promptTokenCount : 0;
  const usage: Usage = {
    inputTokens: tokens,
    outputTokens: 0,
    totalTokens: tokens,
    cachedTokens: 0,
    reasoningTokens: 0,
    cacheWriteTokens: 0,
  };
  return { body: { object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, usage };
}
