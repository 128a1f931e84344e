/**
 * Finds personal data and secrets in text. Each entity has a pattern for candidates and, where the
 * format has one, a check that rules out look-alikes:
 * - credit_card: 13 to 19 digits (spaces or dashes allowed) passing the Luhn check (ISO/IEC 7812-1, annex B).
 * - iban: country code, two check digits and up to 30 letters/digits (in groups of four, as printed) passing the ISO 13616 mod-97 check
 *   (the remainder of the rearranged number modulo 97 is 1).
 * - ip_address: IPv4 dotted quads and IPv6 addresses, confirmed with node:net's isIP.
 * - email: local@domain.tld (the common subset of RFC 5322 addresses).
 * - phone: 7 to 15 digits (the E.164 maximum, ITU-T E.164 §6.1) with an optional +country code,
 *   brackets, spaces, dots or dashes.
 * - secret: provider API keys by their documented prefixes: OpenAI `sk-`/`sk-proj-`, Anthropic `sk-ant-`,
 *   Google `AIza` (cloud.google.com/docs/authentication/api-keys), AWS access key ids `AKIA`/`ASIA`
 *   (docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html), GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`
 *   (github.blog/2021-04-05-behind-githubs-new-authentication-token-formats), Slack `xox?-`, Stripe `sk_live_`/`rk_live_`,
 *   Groq `gsk_`, xAI `xai-`, Modelgate's own `mg-` keys, PEM private keys and JSON Web Tokens.
 * When candidates overlap, the earlier entity in `piiEntityNames` wins (a secret before an email...).
 *
 * Speed (a guardrail scans every prompt, often many KB): a pattern that could start at almost any position
 * is not run over the whole text. Email candidates are found from each `@`, IP addresses from each `:` and
 * each `.` after a digit (every match holds one within its first five characters) with the pattern anchored
 * there, and secrets only when one of their literal prefixes occurs at all. The matches are exactly those
 * of each pattern run over the whole text (test/guardrails-pii-scan.test.ts compares them).
 */
import { isIP } from 'node:net';

export const piiEntityNames = ['secret', 'email', 'iban', 'credit_card', 'ip_address', 'phone'] as const;
export type PiiEntity = (typeof piiEntityNames)[number];

export interface PiiMatch {
  entity: PiiEntity;
  start: number;
  end: number;
  value: string;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return false;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const code = character.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : character;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

const secretSources = [
  String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`,
  String.raw`\b(?:sk-ant-|sk-proj-|sk-)[A-Za-z0-9_-]{20,}`,
  String.raw`\bAIza[0-9A-Za-z_-]{35}`,
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
  String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`,
  String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`,
  String.raw`\b[rs]k_live_[0-9A-Za-z]{20,}`,
  String.raw`\bgsk_[A-Za-z0-9]{20,}`,
  String.raw`\bxai-[A-Za-z0-9]{20,}`,
  String.raw`\bmg-[A-Za-z0-9_-]{32,}`,
  String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
];
/**
 * Every secret match starts with one of these literal prefixes (`[rs]k_live_` one character before its
 * prefix), each found from a character of it that is rare in prose (`-`, `_`, `x`, `A`, `J`) at `offset`.
 */
const secretMarkers: { prefix: string; pivot: string; offset: number }[] = [
  ['-----BEGIN ', '-'],
  ['sk-', '-'],
  ['AIza', 'A'],
  ['AKIA', 'A'],
  ['ASIA', 'A'],
  ['ghp_', '_'],
  ['gho_', '_'],
  ['ghu_', '_'],
  ['ghs_', '_'],
  ['ghr_', '_'],
  ['github_pat_', '_'],
  ['xox', 'x'],
  ['k_live_', '_'],
  ['gsk_', '_'],
  ['xai-', '-'],
  ['mg-', '-'],
  ['eyJ', 'J'],
].map(([prefix = '', pivot = '']) => ({ prefix, pivot, offset: prefix.indexOf(pivot) }));
const maxSecretOffset = Math.max(...secretMarkers.map((marker) => marker.offset));
const secretPivots = [...new Set(secretMarkers.map((marker) => marker.pivot))].map((pivot) => ({
  pivot,
  markers: secretMarkers.filter((marker) => marker.pivot === pivot),
}));

/** Where the first secret prefix starts (-1: there is none, so no secret). */
function firstSecretPrefix(text: string): number {
  let first = -1;
  for (const { pivot, markers } of secretPivots) {
    for (let at = text.indexOf(pivot); at >= 0 && (first < 0 || at <= first + maxSecretOffset); at = text.indexOf(pivot, at + 1)) {
      for (const marker of markers) {
        const start = at - marker.offset;
        if (start >= 0 && (first < 0 || start < first) && text.startsWith(marker.prefix, start)) first = start;
      }
    }
  }
  return first;
}

/** The patterns, as the documentation and the tests state them (each run globally over the text). */
export const piiPatterns: Record<PiiEntity, RegExp> = {
  secret: new RegExp(secretSources.join('|'), 'g'),
  email: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  iban: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g,
  credit_card: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
  ip_address: /(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w.:])/g,
  phone: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w])/g,
};

const accepts: Partial<Record<PiiEntity, (value: string) => boolean>> = {
  iban: ibanValid,
  credit_card: (value) => luhnValid(value.replace(/[ -]/g, '')),
  ip_address: (value) => /[0-9A-Fa-f]/.test(value) && isIP(value) !== 0,
  phone: (value) => {
    const digits = value.replace(/\D/g, '').length;
    if (digits < 7 || digits > 15) return false;
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return false; // an ISO date
    // A bare run of digits is a phone number only when long enough to carry an area code.
    return /[+( .-]/.test(value) || digits >= 10;
  },
};

export type Candidate = { start: number; value: string };

/** Every match of a global pattern over the whole text. */
function* allMatches(pattern: RegExp, text: string, from = 0): Generator<Candidate> {
  pattern.lastIndex = from;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    yield { start: match.index, value: match[0] };
    if (match[0] === '') pattern.lastIndex++;
  }
}

function secretCandidates(text: string): Iterable<Candidate> {
  const first = firstSecretPrefix(text);
  // `[rs]k_live_` starts one character before its prefix.
  return first < 0 ? [] : allMatches(piiPatterns.secret, text, Math.max(0, first - 1));
}

const emailDomain = /[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/y;

function isEmailLocal(code: number): boolean {
  // A-Z a-z 0-9 . _ % + -
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    code === 46 ||
    code === 95 ||
    code === 37 ||
    code === 43 ||
    code === 45
  );
}

/** From each `@`: the local part is the run of local characters before it (not reaching into the previous match), the domain is matched after it. */
function* emailCandidates(text: string): Generator<Candidate> {
  let floor = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', Math.max(at + 1, floor))) {
    let start = at;
    while (start > floor && isEmailLocal(text.charCodeAt(start - 1))) start--;
    if (start === at) continue;
    emailDomain.lastIndex = at + 1;
    const domain = emailDomain.exec(text);
    if (!domain) continue;
    const end = at + 1 + domain[0].length;
    yield { start, value: text.slice(start, end) };
    floor = end;
  }
}

const ipAnchored = new RegExp(piiPatterns.ip_address.source, 'y');

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Yields the positions of `:` and of `.` after a digit, in order, from a position the caller moves on. */
function ipMarks(text: string) {
  let colon = -2;
  let dot = -2;
  return (from: number): number => {
    if (colon !== -1 && colon < from) colon = text.indexOf(':', from);
    if (dot !== -1 && dot < from) {
      dot = text.indexOf('.', from);
      while (dot > 0 && !isDigit(text.charCodeAt(dot - 1))) dot = text.indexOf('.', dot + 1);
    }
    if (colon < 0) return dot;
    return dot < 0 ? colon : Math.min(colon, dot);
  };
}

/**
 * Every IP address match has a mark (`:`, or `.` after a digit) within its first five characters, so the
 * leftmost match at or after `cursor` starts at most four characters before the first mark at or after it.
 */
function* ipCandidates(text: string): Generator<Candidate> {
  const nextMark = ipMarks(text);
  let cursor = 0;
  for (let mark = nextMark(0); mark >= 0; mark = nextMark(Math.max(mark + 1, cursor))) {
    let found: RegExpExecArray | null = null;
    for (let start = Math.max(cursor, mark - 4); start <= mark && !found; start++) {
      ipAnchored.lastIndex = start;
      found = ipAnchored.exec(text);
    }
    if (!found) continue;
    yield { start: found.index, value: found[0] };
    cursor = found.index + found[0].length;
  }
}

const candidatesOf: Record<PiiEntity, (text: string) => Iterable<Candidate>> = {
  secret: secretCandidates,
  email: emailCandidates,
  iban: (text) => allMatches(piiPatterns.iban, text),
  credit_card: (text) => allMatches(piiPatterns.credit_card, text),
  ip_address: ipCandidates,
  phone: (text) => allMatches(piiPatterns.phone, text),
};

/** The candidates of one entity (before its check), in text order: exactly the matches of `piiPatterns[entity]` over the text. */
export function piiCandidates(entity: PiiEntity, text: string): Candidate[] {
  return [...candidatesOf[entity](text)];
}

/** Non-overlapping matches of the given entities, in text order. */
export function findPii(text: string, entities: readonly PiiEntity[]): PiiMatch[] {
  const found: PiiMatch[] = [];
  const taken = (start: number, end: number) => found.some((match) => start < match.end && end > match.start);
  for (const entity of piiEntityNames) {
    if (!entities.includes(entity)) continue;
    const accept = accepts[entity];
    for (const { start, value } of candidatesOf[entity](text)) {
      const end = start + value.length;
      if (accept && !accept(value)) continue;
      if (taken(start, end)) continue;
      found.push({ entity, start, end, value });
    }
  }
  return found.sort((left, right) => left.start - right.start);
}
