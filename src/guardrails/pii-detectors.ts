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

const secretPattern = new RegExp(
  [
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
  ].join('|'),
  'g',
);

interface Detector {
  pattern: RegExp;
  accept?(value: string): boolean;
}

const detectors: Record<PiiEntity, Detector> = {
  secret: { pattern: secretPattern },
  email: { pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  iban: { pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g, accept: ibanValid },
  credit_card: {
    pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    accept: (value) => luhnValid(value.replace(/[ -]/g, '')),
  },
  ip_address: {
    pattern: /(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w.:])/g,
    accept: (value) => /[0-9A-Fa-f]/.test(value) && isIP(value) !== 0,
  },
  phone: {
    pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w])/g,
    accept: (value) => {
      const digits = value.replace(/\D/g, '').length;
      if (digits < 7 || digits > 15) return false;
      if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return false; // an ISO date
      // A bare run of digits is a phone number only when long enough to carry an area code.
      return /[+( .-]/.test(value) || digits >= 10;
    },
  },
};

/** Non-overlapping matches of the given entities, in text order. */
export function findPii(text: string, entities: readonly PiiEntity[]): PiiMatch[] {
  const found: PiiMatch[] = [];
  const taken = (start: number, end: number) => found.some((match) => start < match.end && end > match.start);
  for (const entity of piiEntityNames) {
    if (!entities.includes(entity)) continue;
    const detector = detectors[entity];
    detector.pattern.lastIndex = 0;
    for (const match of text.matchAll(detector.pattern)) {
      const value = match[0];
      const start = match.index;
      const end = start + value.length;
      if (detector.accept && !detector.accept(value)) continue;
      if (taken(start, end)) continue;
      found.push({ entity, start, end, value });
    }
  }
  return found.sort((left, right) => left.start - right.start);
}
