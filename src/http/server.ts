/**
 * The HTTP adapter (Fastify). Thin on purpose: request id, auth (as soon as the headers are in, before
 * any body is read), body limit, JSON parsing, then a framework-neutral handler. Every error leaves as
 * JSON in the caller's API shape (src/http/error-shape.ts).
 */
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import { recordsWritten } from '../core/record-barrier.ts';
import type { Authenticator } from './auth.ts';
import { frameworkError, parserError, writeSocketError } from './client-errors.ts';
import { type ErrorBodyRenderer, errorHeaders, errorRendererForPath } from './error-shape.ts';
import type { HttpLimitsConfig } from './http-limits-config.ts';
import { jsonDepthExceeds, jsonTooDeep } from './json-depth.ts';
import { type KeylessGuardOptions, keylessRefusal } from './keyless-guard.ts';
import { newRequestId } from './request-id.ts';
import type { GatewayReply, GatewayRequest, Route, SseReply, StreamReply } from './types.ts';

export interface HttpServerOptions {
  bodyLimitBytes: number;
  /** REQUEST_TIMEOUT_MS, MAX_CONNECTIONS, MAX_JSON_DEPTH (src/http/http-limits-config.ts). */
  limits: HttpLimitsConfig;
  authenticator: Authenticator;
  /** Set in keyless mode (no master key): loopback Host and same-site browser requests only. */
  keyless?: KeylessGuardOptions | null;
  routes: Route[];
  logger: Logger;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook: the gateway key that authenticated the request. */
    keyId: string | null;
  }
}

interface RouteConfig {
  errorBody?: ErrorBodyRenderer;
}

/** Request line and headers (Node's default, stated so that the 431 message is right). */
const maxHeaderBytes = 16 * 1024;

const missingHost = new GatewayError('An HTTP/1.1 request must send a Host header', {
  status: 400,
  code: 'invalid_http_request',
  retryable: false,
});

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

function pathOf(url: string): string {
  const questionMark = url.indexOf('?');
  return questionMark < 0 ? url : url.slice(0, questionMark);
}

function errorReply(request: FastifyRequest, reply: FastifyReply, error: GatewayError): void {
  const render = (request.routeOptions.config as RouteConfig | undefined)?.errorBody ?? errorRendererForPath(pathOf(request.url));
  reply.code(error.status).headers(errorHeaders(error)).header('x-request-id', request.id);
  // A body the answer did not need (a refused key, a body over the limit) is not read: the connection
  // closes once the answer is written.
  const raw = request.raw;
  if (!raw.complete && (raw.headers['transfer-encoding'] !== undefined || (raw.headers['content-length'] ?? '0') !== '0')) {
    reply.header('connection', 'close');
  }
  reply.type('application/json').send(JSON.stringify(render(error, (request.params ?? {}) as Record<string, string>)));
}

/**
 * Checks the key in `onRequest`, before Fastify reads or parses the body: a refused request costs a
 * header lookup and a hash, and its body is never read. One function for every route (no per-request
 * closure); a refusal goes to the error handler.
 */
function createAuthHook(authenticator: Authenticator, keyQueryParameter?: string) {
  return function authenticateRequest(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    try {
      request.keyId = authenticator.authenticate(keyQueryParameter ? keyFromQuery(request, keyQueryParameter).headers : request.headers);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  };
}

/** The request as the handler sees it when the key may come in the query: the key moved to a header, and out of the URL. */
function keyFromQuery(
  request: FastifyRequest,
  parameter: string,
): { headers: GatewayRequest['headers']; url: string; query: Record<string, string> } {
  const query = { ...((request.query ?? {}) as Record<string, string>) };
  const key = query[parameter];
  if (key === undefined) return { headers: request.headers, url: request.url, query };
  delete query[parameter];
  const [path, search = ''] = request.url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(search);
  params.delete(parameter);
  const rest = params.toString();
  const hasHeaderKey =
    request.headers.authorization !== undefined ||
    request.headers['x-api-key'] !== undefined ||
    request.headers['x-goog-api-key'] !== undefined;
  return {
    headers: hasHeaderKey ? request.headers : { ...request.headers, 'x-goog-api-key': String(key) },
    url: rest ? `${path}?${rest}` : path,
    query,
  };
}

function noSchemaCompiler(): () => never {
  return () => {
    throw new Error('Modelgate routes declare no Fastify schema; validate the body in the handler');
  };
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { logger, limits, bodyLimitBytes } = options;
  const app = Fastify({
    bodyLimit: bodyLimitBytes,
    logger: false,
    // Headers and body must be in within REQUEST_TIMEOUT_MS (slowloris); checked every second at most.
    requestTimeout: limits.requestTimeoutMs,
    http: {
      // Headers alone get at most 30 s, whatever the deadline for the body.
      headersTimeout: Math.min(limits.requestTimeoutMs, 30_000),
      maxHeaderSize: maxHeaderBytes,
      requireHostHeader: false,
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(limits.requestTimeoutMs / 4))),
    },
    clientErrorHandler: (error, socket) => {
      const gatewayError = parserError(error, limits.requestTimeoutMs);
      if (gatewayError) writeSocketError(socket, gatewayError);
      else socket.destroy();
    },
    frameworkErrors: (error, request, reply) => errorReply(request, reply, frameworkError(error, bodyLimitBytes)),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : newRequestId();
    },
    routerOptions: { ignoreTrailingSlash: true },
    // No route declares a Fastify schema (handlers validate their own bodies), so Fastify's Ajv and
    // fast-json-stringify compilers, which it would otherwise build at start (about 7 ms), are never needed.
    schemaController: { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } },
    return503OnClosing: true,
    // On close: finish in-flight requests, drop idle keep-alive connections at once.
    forceCloseConnections: 'idle',
  });

  // Every POST body is JSON, whatever the content type says (curl -d sends form encoding).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    if (jsonDepthExceeds(text, limits.maxJsonDepth)) {
      done(jsonTooDeep(limits.maxJsonDepth), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.decorateRequest('keyId', null);
  // Node answers an HTTP/1.1 request without Host itself (an empty 400) unless told not to: the check
  // is here, so that the answer is JSON like every other.
  const keyless = options.keyless;
  app.addHook('onRequest', function requestGuard(request, _reply, done) {
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') done(missingHost);
    else if (keyless) done(keylessRefusal(request.headers, keyless) ?? undefined);
    else done();
  });
  // Past MAX_CONNECTIONS, Node closes a new connection as soon as it is accepted.
  app.server.maxConnections = limits.maxConnections;

  app.setErrorHandler((error, request, reply) => {
    const gatewayError = frameworkError(error, bodyLimitBytes);
    if (gatewayError.status >= 500) logger.error({ err: error, requestId: request.id }, 'request failed');
    errorReply(request, reply, gatewayError);
  });

  app.setNotFoundHandler((request, reply) => {
    errorReply(
      request,
      reply,
      new GatewayError(`Unknown endpoint ${request.method} ${pathOf(request.url)}`, {
        status: 404,
        code: 'unknown_endpoint',
        retryable: false,
      }),
    );
  });

  const bufferedRoutes = options.routes.filter((route) => !route.streamBody);
  const streamedRoutes = options.routes.filter((route) => route.streamBody);
  registerRoutes(app, bufferedRoutes, options);
  if (streamedRoutes.length > 0) {
    // Routes that read their own body: in their own context, whose parser leaves the body unread.
    app.register(async (context) => {
      context.removeAllContentTypeParsers();
      context.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      registerRoutes(context, streamedRoutes, options);
    });
  }
  return app;
}

function registerRoutes(app: FastifyInstance, routes: Route[], options: HttpServerOptions): void {
  const { logger } = options;
  const authenticate = createAuthHook(options.authenticator);
  for (const route of routes) {
    const config: RouteConfig = route.errorBody ? { errorBody: route.errorBody } : {};
    app.route({
      method: route.method,
      url: route.path,
      config,
      ...(route.authenticated
        ? { onRequest: route.keyQueryParameter ? createAuthHook(options.authenticator, route.keyQueryParameter) : authenticate }
        : {}),
      // A route that declares HEAD itself serves it (Fastify would add its own for GET otherwise).
      exposeHeadRoute: !(Array.isArray(route.method) ? route.method : [route.method]).includes('HEAD'),
      handler: async (request, reply) => {
        const controller = new AbortController();
        const raw = reply.raw;
        raw.once('close', () => {
          if (!raw.writableFinished) controller.abort();
        });
        try {
          const fromQuery = route.keyQueryParameter ? keyFromQuery(request, route.keyQueryParameter) : null;
          const gatewayRequest: GatewayRequest = {
            requestId: request.id,
            method: request.method,
            path: request.url.split('?')[0] ?? request.url,
            url: fromQuery ? fromQuery.url : request.url,
            headers: request.headers,
            body: request.body,
            params: (request.params ?? {}) as Record<string, string>,
            query: fromQuery ? fromQuery.query : ((request.query ?? {}) as Record<string, string>),
            signal: controller.signal,
            keyId: request.keyId,
            startedAt: performance.now(),
          };
          if (route.streamBody) gatewayRequest.bodyStream = request.raw;
          const result = await route.handler(gatewayRequest);
          await sendReply(request, reply, result);
        } catch (error) {
          const gatewayError = toGatewayError(error);
          if (gatewayError.status >= 500 && gatewayError.code === 'internal_error') {
            logger.error({ err: error, requestId: request.id }, 'request failed');
          }
          // A failed call's records (its outcome was emitted before the error was thrown) come first.
          await recordsWritten();
          if (reply.sent || raw.headersSent) {
            if (!raw.writableEnded) raw.end();
            return;
          }
          errorReply(request, reply, gatewayError);
        }
        return reply;
      },
    });
  }
}

async function sendReply(request: FastifyRequest, reply: FastifyReply, result: GatewayReply): Promise<void> {
  // The call's records are in the journal before its client can see its answer (src/core/record-barrier.ts).
  const written = result.kind === 'json' || result.kind === 'text' ? recordsWritten() : null;
  if (written) await written;
  if (result.kind === 'json') {
    // Written to Node's response directly: Fastify's send path (content-type parsing, hooks we do not use) cost
    // a few µs per answer. Same headers as through Fastify, with the length computed here.
    const body = result.rawBody ?? JSON.stringify(result.body);
    const headers: Record<string, string | number> = {
      ...result.headers,
      'x-request-id': request.id,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    };
    // A 401 is final whoever raised it (a route's own check): SDKs must not retry it.
    if (result.status === 401) headers['x-should-retry'] = 'false';
    reply.hijack();
    reply.raw.writeHead(result.status, headers);
    reply.raw.end(body);
    return;
  }
  if (result.kind === 'text') {
    reply.code(result.status).header('x-request-id', request.id);
    if (result.headers) reply.headers(result.headers);
    reply.type(result.contentType).send(result.body);
    return;
  }
  reply.hijack();
  if (result.kind === 'stream') await writeStream(reply.raw, request.id, result);
  else await writeSse(reply.raw, request.id, result);
}

/** Relays a byte stream with backpressure: at most one chunk is held while the client is slow. */
async function writeStream(raw: ServerResponse, requestId: string, result: StreamReply): Promise<void> {
  const startedAt = performance.now();
  let firstByteMs: number | null = null;
  let failure: unknown = null;
  try {
    raw.writeHead(result.status, { ...result.headers, 'x-request-id': requestId });
    if (result.body) {
      for await (const chunk of result.body) {
        if (raw.destroyed) break;
        firstByteMs ??= performance.now() - startedAt;
        if (!raw.write(chunk) && !raw.destroyed) await waitForDrain(raw);
      }
    }
  } catch (error) {
    // A body that fails because the client left (its upstream read was aborted) is not a failure.
    if (!raw.destroyed) {
      failure = error;
      // Headers are gone already: the only honest signal left is a cut connection.
      raw.destroy();
    }
  } finally {
    const clientGone = raw.destroyed && !raw.writableEnded && failure === null;
    // The outcome first and its records written, then the end of the response: a process killed between
    // the two has recorded a call whose client did not see its end, never the reverse.
    result.onEnd?.({ error: failure, clientGone, firstByteMs });
    await recordsWritten();
    if (!raw.writableEnded && !raw.destroyed) raw.end();
  }
}

function waitForDrain(raw: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

async function writeSse(raw: ServerResponse, requestId: string, result: SseReply): Promise<void> {
  const startedAt = performance.now();
  let firstByteMs: number | null = null;
  let failure: unknown = null;
  raw.writeHead(result.status, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': requestId,
    ...result.headers,
  });
  // Frames produced from one upstream read arrive within the same microtask run: gather them and
  // write them on the next tick together (with the headers, the first time), one write instead of
  // one per frame. Nothing waits for a timer: if no frame is ready by then, the headers go alone.
  let pending = '';
  let started = false;
  let blocked = false;
  /** Set once the frames are over: the last ones wait for the call's records and leave with the end. */
  let ending = false;
  const flush = () => {
    if (ending || raw.destroyed || raw.writableEnded) return;
    if (pending === '') {
      if (!started) raw.flushHeaders();
      started = true;
      return;
    }
    started = true;
    const text = pending;
    pending = '';
    if (!raw.write(text)) blocked = true;
  };
  process.nextTick(flush);
  try {
    for await (const frame of result.frames) {
      if (raw.destroyed) break;
      firstByteMs ??= performance.now() - startedAt;
      if (pending === '' && started) process.nextTick(flush);
      pending += frame;
      if (blocked) {
        blocked = false;
        flush();
        if (raw.writableNeedDrain) await waitForDrain(raw);
      }
    }
  } catch (error) {
    failure = error;
    if (!raw.destroyed) {
      const body = toGatewayError(error).toBody();
      pending += result.errorFrames ? result.errorFrames(body) : `data: ${JSON.stringify(body)}\n\n`;
    }
  } finally {
    ending = true;
    const clientGone = raw.destroyed && !raw.writableEnded;
    // The outcome and its records before the last frames (see writeStream): journaled when the client gets the end.
    result.onEnd?.({ error: failure, clientGone, firstByteMs });
    await recordsWritten();
    if (!raw.writableEnded) {
      // The last frames leave with the end of the response, in one write.
      const rest = raw.destroyed ? '' : pending;
      pending = '';
      raw.end(rest);
    }
  }
}
