/**
 * Deterministic embeddings for the semantic cache tests (the OpenAI simulator's model names starting
 * with `sim-semantic`): a hashed bag of words in 128 dimensions, L2-normalised, so texts sharing most of
 * their words are near (cosine close to 1) and texts sharing none are far (close to 0). Like real
 * embedding models, it barely tells negations and numbers apart: function words, negations and digits
 * weigh 0.15 of a content word, so "is the sky green" and "is the sky not green" land at about 0.99,
 * which is what the cache's guard must catch (GPTCache issue #694).
 */
const dimensions = 128;

const light = new Set([
  'a', 'an', 'the', 'is', 'are', 'was', 'be', 'of', 'to', 'in', 'on', 'for', 'and', 'or', 'me', 'please', 'what', 'whats', 'it',
  'not', 'no', 'never', 'isnt', 'dont', 'doesnt', 'plus', 'minus', 'times',
]);

function hash(word: string): number {
  let value = 2166136261;
  for (let index = 0; index < word.length; index++) {
    value ^= word.charCodeAt(index);
    value = Math.imul(value, 16777619);
  }
  return value >>> 0;
}

export function semanticEmbedding(text: string): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().replace(/['\u2019]/g, '').match(/[a-z0-9]+/g) ?? [];
  for (const word of words) {
    const weight = light.has(word) || /^\d+$/.test(word) ? 0.15 : 1;
    const slot = hash(word) % dimensions;
    vector[slot] = (vector[slot] as number) + weight;
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0)) || 1;
  return vector.map((value) => Number((value / norm).toFixed(6)));
}
