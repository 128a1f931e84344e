/**
 * The PII scanners (src/guardrails/pii-detectors.ts) find candidates from anchors (`@`, `:`, a digit's `.`,
 * the secrets' literal prefixes) instead of running each pattern over the whole text. Their candidates must
 * be exactly the matches of the documented patterns run globally over the text: compared here on seeded
 * random texts dense in the characters the patterns care about, and on fragments of each format.
 */
import { describe, expect, it } from 'vitest';
import { type PiiEntity, piiCandidates, piiEntityNames, piiPatterns } from '../src/guardrails/pii-detectors.ts';
import { createRandom } from './helpers/seeded-random.ts';

const fragments = [
  'sk-',
  'sk-ant-',
  'sk-proj-',
  'AIza',
  'AKIA',
  'ASIA',
  'ghp_',
  'gho_',
  'github_pat_',
  'xoxb-',
  'sk_live_',
  'rk_live_',
  'k_live_',
  'gsk_',
  'xai-',
  'mg-',
  'eyJ',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.',
  '-----BEGIN RSA PRIVATE KEY-----',
  '-----END RSA PRIVATE KEY-----',
  '@',
  '@example.com',
  'a.b+c@mail.example.co.uk',
  'x@y',
  '.org',
  '::',
  ':',
  '2001:db8::1',
  'fe80::',
  '192.168.',
  '10.0.0.1',
  '999.1.1.1',
  '1.2.3',
  '.',
  '..',
  ' ',
  '  ',
  '\n',
  '+44 ',
  '(020) ',
  '7946 0958',
  '-',
  '_',
  '%',
  '+',
  '(',
  ')',
  'DE89 3704 0044 0532 0130 00',
  'GB82WEST',
  '4111 1111 1111 1111',
  '5500-0000-0000-0004',
  '2026-12-02',
  'ffff',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345',
  'abcdefghijklmnop',
  'the ',
];
const alphabet = 'aAbBcCdDeEfFxXkKsSgGJz0123456789.:@-_%+() \n';

function randomText(random: () => number): string {
  const parts: string[] = [];
  const length = Math.floor(random() * 40);
  for (let index = 0; index < length; index++) {
    if (random() < 0.35) parts.push(fragments[Math.floor(random() * fragments.length)] as string);
    else {
      const run = 1 + Math.floor(random() * 12);
      let text = '';
      for (let position = 0; position < run; position++) text += alphabet[Math.floor(random() * alphabet.length)];
      parts.push(text);
    }
  }
  return parts.join('');
}

function wholeTextMatches(entity: PiiEntity, text: string): { start: number; value: string }[] {
  return [...text.matchAll(new RegExp(piiPatterns[entity].source, 'g'))].map((match) => ({ start: match.index, value: match[0] }));
}

describe('PII scanners', () => {
  it('find exactly the matches of the documented patterns over the whole text (20,000 seeded random texts)', () => {
    const random = createRandom(1302);
    const counts: Record<string, number> = {};
    for (let round = 0; round < 20_000; round++) {
      const text = randomText(random);
      for (const entity of piiEntityNames) {
        const expected = wholeTextMatches(entity, text);
        const found = piiCandidates(entity, text);
        if (JSON.stringify(found) !== JSON.stringify(expected)) expect({ entity, text, found }).toEqual({ entity, text, found: expected });
        counts[entity] = (counts[entity] ?? 0) + expected.length;
      }
    }
    // The texts exercise every scanner with real matches, not only misses.
    for (const entity of piiEntityNames) expect(counts[entity], entity).toBeGreaterThan(200);
  });

  it('find matches that start near the text start and end, and next to each other', () => {
    const texts = [
      'a@b.co',
      '@b.co',
      'a@b.com@c.org',
      'a@b.com.c@d.org',
      'x@y z@w.com',
      '1.2.3.4',
      '1.2.3.4.5',
      '::1',
      'fe80::1%eth0',
      '12:34:56',
      '1:2:3:4:5:6:7:8:9',
      'ip 10.0.0.1:8080 and ::ffff:1.2.3.4',
      'sk_live_abcdefghijklmnopqrstuvwx',
      'xsk-abcdefghijklmnopqrstuvwxyz',
      'AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE',
      `${'-'.repeat(30)}sk-abcdefghijklmnopqrstuvwxyz`,
    ];
    for (const text of texts) {
      for (const entity of piiEntityNames)
        expect(piiCandidates(entity, text), `${entity} in ${text}`).toEqual(wholeTextMatches(entity, text));
    }
  });
});
