/**
 * The guard against near-miss false hits: two prompts can be close in embedding space and still ask
 * opposite things ("is X" / "is not X", GPTCache issue #694) or about other numbers ("2 + 2" / "2 + 3").
 * A semantic hit needs the same count of negations and the same numbers (digits and the number words
 * zero to twenty) in both prompts.
 */
const negations = new Set([
  'not',
  'no',
  'never',
  'none',
  'nobody',
  'nothing',
  'neither',
  'nor',
  'nowhere',
  'without',
  'cannot',
  'cant',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'arent',
  'wasnt',
  'werent',
  'wont',
  'wouldnt',
  'shouldnt',
  'couldnt',
  'hasnt',
  'havent',
  'hadnt',
  'mustnt',
  'neednt',
  'aint',
  'nope',
  'except',
  'excluding',
  'unlike',
]);

const numberWords = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
  'twenty',
];

export interface PromptSignature {
  negations: number;
  /** Numbers in the prompt, normalised and sorted. */
  numbers: string;
}

export function promptSignature(text: string): PromptSignature {
  const lower = text.toLowerCase().replace(/[\u2019']/g, '');
  let negationCount = 0;
  const numbers: string[] = [];
  for (const match of lower.matchAll(/\d+(?:[.,]\d+)*|[a-z]+/g)) {
    const word = match[0];
    if (/^\d/.test(word)) numbers.push(String(Number(word.replace(/,/g, ''))));
    else if (negations.has(word)) negationCount++;
    else {
      const index = numberWords.indexOf(word);
      if (index >= 0) numbers.push(String(index));
    }
  }
  return { negations: negationCount, numbers: numbers.sort().join(' ') };
}

export function promptsAgree(left: string, right: string): boolean {
  const a = promptSignature(left);
  const b = promptSignature(right);
  return a.negations === b.negations && a.numbers === b.numbers;
}
