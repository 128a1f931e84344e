/**
 * Two pieces of the JSON relay path, in-process:
 * - the master-key check (src/http/auth.ts): the right key in each header form passes with a stable key
 *   id, a wrong key (same length, one character off, a prefix, longer) is a 401, no key is a 401;
 * - jsonReply (src/routes/model-call.ts): a result that carries its exact text is sent as that text and its
 *   body is not read for it (a cache hit parses its stored text only on first read), reading the body still
 *   works, and a body assigned later replaces the text.
 */
import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/errors.ts';
import { createAuthenticator } from '../src/http/auth.ts';
import type { JsonResult } from '../src/providers/types.ts';
import { jsonReply } from '../src/routes/model-call.ts';

const masterKey = 'unit-master-key-0123456789';

function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return `${(error as GatewayError).status} ${(error as GatewayError).code}`;
  }
  return undefined;
}

describe('the master-key check', () => {
  const authenticator = createAuthenticator(masterKey);
  const keyId = `master:${hash('sha256', masterKey, 'hex').slice(0, 8)}`;

  it('accepts the key as Bearer, x-api-key and x-goog-api-key, with the same key id', () => {
    expect(authenticator.authenticate({ authorization: `Bearer ${masterKey}` })).toBe(keyId);
    expect(authenticator.authenticate({ authorization: `bearer   ${masterKey}  ` })).toBe(keyId);
    expect(authenticator.authenticate({ 'x-api-key': masterKey })).toBe(keyId);
    expect(authenticator.authenticate({ 'x-goog-api-key': masterKey })).toBe(keyId);
  });

  it('refuses wrong keys of every length and a missing key', () => {
    const oneOff = `${masterKey.slice(0, -1)}X`;
    for (const wrong of [oneOff, masterKey.slice(0, -1), `${masterKey}0`, 'x', masterKey.toUpperCase()]) {
      expect(
        refusal(() => authenticator.authenticate({ authorization: `Bearer ${wrong}` })),
        wrong,
      ).toBe('401 invalid_api_key');
      expect(
        refusal(() => authenticator.authenticate({ 'x-api-key': wrong })),
        wrong,
      ).toBe('401 invalid_api_key');
    }
    expect(refusal(() => authenticator.authenticate({}))).toBe('401 missing_api_key');
  });

  it('lets every call through with no master key configured', () => {
    expect(createAuthenticator(undefined).authenticate({})).toBeNull();
  });
});

describe('jsonReply', () => {
  function lazyResult(text: string): { result: JsonResult; reads: () => number } {
    let reads = 0;
    const result: JsonResult = { kind: 'json', status: 200, body: {}, headers: {}, usage: null, rawBody: text };
    Object.defineProperty(result, 'body', {
      enumerable: true,
      get: () => {
        reads += 1;
        return JSON.parse(text);
      },
    });
    return { result, reads: () => reads };
  }

  it('sends the exact text without reading the body, and still gives the body when asked', () => {
    const text = '{"id":"chatcmpl-1","choices":[]}';
    const { result, reads } = lazyResult(text);
    const reply = jsonReply(result, { 'x-cache': 'HIT (exact)' });
    expect(reply.kind).toBe('json');
    expect(reply.status).toBe(200);
    expect(reply.headers).toEqual({ 'x-cache': 'HIT (exact)' });
    expect(reply.rawBody).toBe(text);
    expect(reads()).toBe(0);
    expect(reply.body).toEqual({ id: 'chatcmpl-1', choices: [] });
    expect(reads()).toBe(1);
  });

  it('drops the text when a new body is assigned', () => {
    const { result } = lazyResult('{"a":1}');
    const reply = jsonReply(result, {});
    reply.body = { b: 2 };
    expect(reply.body).toEqual({ b: 2 });
    expect(reply.rawBody).toBeUndefined();
  });

  it('passes a result without text through as its body', () => {
    const reply = jsonReply({ kind: 'json', status: 201, body: { ok: true }, headers: {}, usage: null }, {});
    expect(reply).toEqual({ kind: 'json', status: 201, headers: {}, body: { ok: true } });
    expect(reply.rawBody).toBeUndefined();
  });
});
