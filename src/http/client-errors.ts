/**
 * Errors raised below the routes: Node's HTTP parser and deadlines (the `clientError` event: malformed
 * requests, unknown methods, headers over the size limit, REQUEST_TIMEOUT_MS) and Fastify's own (body
 * parsing, limits, URLs). Each becomes a GatewayError, written as well-formed HTTP/1.1 with a JSON body
 * in the caller's API shape; nothing leaves as Node's or Fastify's plain text.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import { errorHeaders, errorRendererForPath } from './error-shape.ts';

function refusal(message: string, status: number, code: string): GatewayError {
  return new GatewayError(message, { status, code, retryable: false });
}

/** A parser or deadline error of Node's HTTP server as a GatewayError, or null when nothing can be answered. */
export function parserError(error: Error & { code?: string }, requestTimeoutMs: number): GatewayError | null {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return refusal(`The request's headers and body were not received within ${requestTimeoutMs} ms (REQUEST_TIMEOUT_MS)`, 408, 'request_timeout');
    case 'HPE_HEADER_OVERFLOW':
      return refusal('The request line and headers are larger than the limit of 16 KB', 431, 'headers_too_large');
    case 'HPE_INVALID_METHOD':
      return refusal('Unknown HTTP method', 405, 'method_not_allowed');
    default:
      return refusal(`Malformed HTTP request (${error.code ?? 'parse error'})`, 400, 'invalid_http_request');
  }
}

/** Writes one error response directly on a socket the parser gave up on, then closes it. */
export function writeSocketError(socket: Socket, error: GatewayError): void {
  // The request in flight on this socket, if the parser got that far (a deadline hit mid-body).
  const response = (socket as Socket & { _httpMessage?: ServerResponse & { req?: IncomingMessage } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const url = response?.req?.url ?? '/';
    const questionMark = url.indexOf('?');
    const render = errorRendererForPath(questionMark < 0 ? url : url.slice(0, questionMark));
    const body = JSON.stringify(render(error, {}));
    let head = `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`;
    for (const [name, value] of Object.entries(errorHeaders(error))) head += `${name}: ${value}\r\n`;
    // Closed once written: the rest of what the client sends is not read.
    socket.end(`${head}\r\n${body}`, () => socket.destroy());
    return;
  }
  socket.destroy();
}

const statusTexts: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

function statusText(status: number): string {
  return statusTexts[status] ?? 'Error';
}

/** Maps Fastify's own errors (body parsing, limits, URLs, routing) to gateway errors. */
export function frameworkError(error: unknown, bodyLimitBytes: number): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string }).code;
  const status = (error as { statusCode?: number }).statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return refusal(`Request body is larger than the limit of ${bodyLimitBytes} bytes (BODY_SIZE_LIMIT)`, 413, 'request_too_large');
  }
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return refusal(`Request body is not valid JSON: ${(error as Error).message}`, 400, 'invalid_json');
  }
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return refusal('A path segment of the URL is too long', 414, 'uri_too_long');
  if (code === 'FST_ERR_BAD_URL') return refusal('The URL is not validly percent-encoded', 400, 'invalid_url');
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return refusal((error as Error).message, status ?? 400, 'invalid_request');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) return refusal((error as Error).message, status, 'invalid_request');
  return toGatewayError(error);
}
