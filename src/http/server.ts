/**
 * The HTTP adapter (Fastify). Thin on purpose: request id, auth (as soon as the headers are in, before
 * any body is read), body limit, JSON parsing, then a framework-neutral handler. Every error leaves as
 * JSON in the caller's API shape (src/http/error-shape.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import type { Authenticator } from './auth.ts';
import { type ErrorBodyRenderer, errorHeaders, errorRendererForPath } from './error-shape.ts';
import type { GatewayReply, GatewayRequest, Route, SseReply, StreamReply } from './types.ts';

export interface HttpServerOptions {
  bodyLimitBytes: number;
  authenticator: Authenticator;
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
  if (!request.raw.complete) reply.header('connection', 'close');
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
function keyFromQuery(request: FastifyRequest, parameter: string): { headers: GatewayRequest['headers']; url: string; query: Record<string, string> } {
  const query = { ...((request.query ?? {}) as Record<string, string>) };
  const key = query[parameter];
  if (key === undefined) return { headers: request.headers, url: request.url, query };
  delete query[parameter];
  const [path, search = ''] = request.url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(search);
  params.delete(parameter);
  const rest = params.toString();
  const hasHeaderKey = request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined || request.headers['x-goog-api-key'] !== undefined;
  return { headers: hasHeaderKey ? request.headers : { ...request.headers, 'x-goog-api-key': String(key) }, url: rest ? `${path}?${rest}` : path, query };
}

/** Maps Fastify's own errors (body parsing, limits, routing) to gateway errors. */
function frameworkError(error: unknown, bodyLimitBytes: number): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string }).code;
  const status = (error as { statusCode?: number }).statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return new GatewayError(`Request body is larger than the limit of ${bodyLimitBytes} bytes (BODY_SIZE_LIMIT)`, {
      status: 413,
      code: 'request_too_large',
      retryable: false,
    });
  }
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return new GatewayError(`Request body is not valid JSON: ${(error as Error).message}`, {
      status: 400,
      code: 'invalid_json',
      retryable: false,
    });
  }
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new GatewayError((error as Error).message, { status: status ?? 400, code: 'invalid_request', retryable: false });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatewayError((error as Error).message, { status, code: 'invalid_request', retryable: false });
  }
  return toGatewayError(error);
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { logger } = options;
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes,
    logger: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
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
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.decorateRequest('keyId', null);

  app.setErrorHandler((error, request, reply) => {
    const gatewayError = frameworkError(error, options.bodyLimitBytes);
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
  if (result.kind === 'json') {
    reply.code(result.status).header('x-request-id', request.id);
    if (result.headers) reply.headers(result.headers);
    // A 401 is final whoever raised it (a route's own check): SDKs must not retry it.
    if (result.status === 401) reply.header('x-should-retry', 'false');
    reply.type('application/json').send(result.rawBody ?? JSON.stringify(result.body));
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
    if (!raw.writableEnded && !raw.destroyed) raw.end();
    result.onEnd?.({ error: failure, clientGone, firstByteMs });
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
  const flush = () => {
    if (raw.destroyed || raw.writableEnded) return;
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
    const clientGone = raw.destroyed && !raw.writableEnded;
    if (!raw.writableEnded) {
      // The last frames leave with the end of the response, in one write.
      const rest = raw.destroyed ? '' : pending;
      pending = '';
      raw.end(rest);
    }
    result.onEnd?.({ error: failure, clientGone, firstByteMs });
  }
}
