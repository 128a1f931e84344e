/**
 * `/p/{provider}/...`: the provider's own API, relayed opaque. The gateway authenticates the caller,
 * strips the caller's credentials and hop-by-hop headers, adds the provider's credentials, keeps the
 * path under the provider's base URL, streams both bodies without holding them, and records the
 * call (usage read from the native answer) as one CallOutcome like any other. Each call passes the
 * pipeline as an opaque call (src/pipeline/stage-order.ts `opaqueStages`): the workflow that applies (its
 * audit, usage and budget switches), a managed key's model lists, rate limits and budgets apply to the
 * model the body or the Gemini path names.
 */
import { GatewayError, toGatewayError } from '../core/errors.ts';
import type { OutcomeBus } from '../core/outcome.ts';
import { googleErrorBody } from '../gemini/google-errors.ts';
import type { GatewayReply, GatewayRequest, HttpMethod, Route } from '../http/types.ts';
import { anthropicErrorBody } from '../messages/anthropic-errors.ts';
import { createModelCall } from '../pipeline/model-call.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { Provider } from '../providers/types.ts';
import type { UpstreamClient, UpstreamRequest } from '../providers/upstream-client.ts';
import type { PassthroughConfig } from './passthrough-config.ts';
import { upstreamRequestHeaders } from './passthrough-headers.ts';
import { createPassthroughOutcome } from './passthrough-outcome.ts';
import { passthroughUrl } from './passthrough-path.ts';
import { type Relayed, relayedBytes, relayPassthrough } from './passthrough-relay.ts';
import type { PassthroughTarget } from './passthrough-targets.ts';
import { readRequestBody } from './request-body.ts';

export const passthroughMethods: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export interface PassthroughDependencies {
  config: PassthroughConfig;
  /** The pipeline the calls pass (as opaque calls: only key access, rate limits and budgets run). */
  pipeline: Pipeline;
  /** The provider instances, by which a call's target is named for those stages. */
  providers: readonly Provider[];
  targets: Map<string, PassthroughTarget>;
  client: UpstreamClient;
  bus: OutcomeBus;
  /** BODY_SIZE_LIMIT, applied to JSON bodies (read to find the model); other bodies stream unread. */
  bodyLimitBytes: number;
  /** MAX_JSON_DEPTH, applied to JSON bodies before they are parsed. */
  maxJsonDepth: number;
  /** Tries after the first for idempotent requests. */
  retries?: number;
  backoffMs?: number;
}

export function createPassthroughRoutes(dependencies: PassthroughDependencies): Route[] {
  const handler = (request: GatewayRequest) => handlePassthrough(dependencies, request);
  // Errors the adapter raises (a refused key) in the provider's shape too.
  const errorBody = (error: GatewayError, params: Record<string, string>) =>
    nativeErrorBody(params.provider === undefined ? undefined : dependencies.targets.get(params.provider), error);
  return [
    { method: passthroughMethods, path: '/p/:provider', authenticated: true, streamBody: true, handler, errorBody },
    { method: passthroughMethods, path: '/p/:provider/*', authenticated: true, streamBody: true, handler, errorBody },
  ];
}

function providerOf(dependencies: PassthroughDependencies, target: PassthroughTarget): Provider {
  const provider = dependencies.providers.find((candidate) => candidate.name === target.name);
  if (!provider) throw new Error(`passthrough target '${target.name}' has no provider instance`);
  return provider;
}

function nativeErrorBody(target: PassthroughTarget | undefined, error: GatewayError): unknown {
  return target?.format === 'anthropic' ? anthropicErrorBody(error) : target?.format === 'gemini' ? googleErrorBody(error) : error.toBody();
}

/** Gateway errors in the shape of the provider's own API, so its SDK reads them. */
function errorReply(target: PassthroughTarget | undefined, error: GatewayError): GatewayReply {
  return { kind: 'json', status: error.status, headers: error.headers, body: nativeErrorBody(target, error) };
}

/** `/p/{provider}{rest}?{query}` split from the URL as sent. */
function splitUrl(url: string): { provider: string; rest: string; query: string } {
  const questionMark = url.indexOf('?');
  const path = questionMark < 0 ? url : url.slice(0, questionMark);
  const query = questionMark < 0 ? '' : url.slice(questionMark + 1);
  const afterPrefix = path.slice('/p/'.length);
  const slash = afterPrefix.indexOf('/');
  return {
    provider: slash < 0 ? afterPrefix : afterPrefix.slice(0, slash),
    rest: slash < 0 ? '' : afterPrefix.slice(slash),
    query,
  };
}

function withoutParameters(query: string, names: string[]): string {
  if (names.length === 0 || query === '') return query;
  const parameters = new URLSearchParams(query);
  for (const name of names) parameters.delete(name);
  return parameters.toString();
}

/** The model a Gemini path names: `/models/{model}:generateContent`. */
function modelInPath(rest: string): string | null {
  const match = /\/models\/([^/:]+)(?::[A-Za-z]+)?$/.exec(rest);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

async function handlePassthrough(dependencies: PassthroughDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const { provider, rest, query } = splitUrl(request.url ?? request.path);
  const target = dependencies.targets.get(provider);
  const outcome = createPassthroughOutcome(dependencies.bus, request, target ?? null);
  try {
    if (!target) {
      throw new GatewayError(
        `Passthrough to provider '${provider}' is not available: it is not configured or not in ENABLED_PASSTHROUGH_PROVIDERS`,
        {
          status: 404,
          code: 'provider_not_found',
          retryable: false,
        },
      );
    }
    const url = passthroughUrl(target.baseUrl, rest, withoutParameters(query, target.strippedQuery), {
      allowV1Alias: dependencies.config.allowV1Alias,
    });
    const method = request.method.toUpperCase();
    const body = await readRequestBody(request, dependencies.bodyLimitBytes, dependencies.maxJsonDepth);
    const requestedModel = (typeof body.json?.model === 'string' ? body.json.model : null) ?? modelInPath(rest);
    outcome.setRequest(requestedModel, body.json);
    const headers = { ...target.defaults, ...upstreamRequestHeaders(request.headers, body.stream !== undefined), ...target.injected };
    const upstreamRequest: UpstreamRequest = {
      provider: target.name,
      url,
      method: method as NonNullable<UpstreamRequest['method']>,
      headers,
      signal: request.signal,
    };
    if (body.bytes !== undefined) upstreamRequest.body = body.bytes;
    else if (body.stream !== undefined) upstreamRequest.body = body.stream;
    // Through the pipeline as an opaque call: key access (model lists), rate limits and budgets apply; the relay is its terminal.
    const call = createModelCall(request, {
      endpoint: 'passthrough',
      requestedModel: requestedModel ?? '',
      body: body.json ?? {},
      stream: false,
      operations: [],
      prepare: () => {
        throw new Error('an opaque passthrough call has no prepared body');
      },
    });
    call.target = { provider: providerOf(dependencies, target), model: requestedModel ?? '' };
    outcome.setTrace(call.trace);
    let relayed: Relayed | undefined;
    call.relay = async () => {
      relayed = await relayPassthrough(dependencies.client, target, upstreamRequest, {
        retries: dependencies.retries ?? 2,
        backoffMs: dependencies.backoffMs ?? 200,
        replayable: body.stream === undefined,
      });
      return relayed.result;
    };
    const result = await dependencies.pipeline.run(call);
    if (result.kind !== 'stream' || !relayed) throw new Error('a passthrough call answered without its relay');
    const { tap } = relayed;
    const responseHeaders = { ...result.headers, ...call.trace.headers };
    if (!relayed.hasBody || !tap) {
      // Read to its (empty) end, so the stages see the answer finish.
      for await (const _chunk of result.chunks);
      outcome.finish({ status: result.status, reading: { usage: null, model: null }, stream: false, responseHeaders });
      return { kind: 'stream', status: result.status, headers: responseHeaders, body: null };
    }
    return {
      kind: 'stream',
      status: result.status,
      headers: responseHeaders,
      body: relayedBytes(result),
      onEnd: (end) => {
        outcome.finish({
          status: result.status,
          reading: tap.reading(),
          stream: tap.stream,
          responseHeaders,
          responseBody: tap.json(),
          firstByteMs: end.firstByteMs,
          error: end.error ?? undefined,
          clientGone: end.clientGone,
        });
      },
    };
  } catch (error) {
    const gatewayError = toGatewayError(error);
    outcome.finish({ status: gatewayError.status, reading: { usage: null, model: null }, stream: false, error: gatewayError });
    if (gatewayError.code === 'internal_error') throw error;
    return errorReply(target, gatewayError);
  }
}
