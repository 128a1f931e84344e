/**
 * Reads an OpenAI-style multipart upload (`file` plus text fields) with busboy, writing the file part to a
 * spool file on disk as it arrives: memory stays bounded whatever the file's size, and the upload is checked
 * whole (size, fields) before anything is sent to a provider. The caller removes the spool file (`discard`).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { GatewayError } from '../core/errors.ts';
import { type GatewayRequest, headerValue } from '../http/types.ts';

export interface ReceivedUpload {
  fields: Map<string, string>;
  file: { path: string; filename: string; contentType: string; bytes: number } | null;
  discard(): Promise<void>;
}

export interface UploadLimits {
  maxFileBytes: number;
  spoolDir: string;
}

function invalid(message: string, code = 'invalid_multipart', status = 400): GatewayError {
  return new GatewayError(message, { status, code, retryable: false });
}

function tooLarge(limit: number): GatewayError {
  return invalid(`The file is larger than the limit of ${limit} bytes (FILES_MAX_UPLOAD_BYTES)`, 'file_too_large', 413);
}

export async function receiveUpload(request: GatewayRequest, limits: UploadLimits): Promise<ReceivedUpload> {
  const source = request.bodyStream;
  const contentType = headerValue(request.headers, 'content-type') ?? '';
  if (!source || !/^multipart\/form-data\s*;/i.test(contentType)) {
    source?.resume();
    throw invalid("Expected a multipart/form-data body with a 'file' part and a 'purpose' field", 'invalid_request');
  }
  const declared = Number(headerValue(request.headers, 'content-length'));
  // The multipart framing adds a few hundred bytes to the file; a body far past the limit is refused unread.
  if (Number.isFinite(declared) && declared > limits.maxFileBytes + 1024 * 1024) {
    source.resume();
    throw tooLarge(limits.maxFileBytes);
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers as Record<string, string>,
      limits: { files: 1, fileSize: limits.maxFileBytes, fields: 32, fieldSize: 64 * 1024, parts: 40 },
    });
  } catch (error) {
    source.resume();
    throw invalid(`Invalid multipart body: ${(error as Error).message}`);
  }
  const fields = new Map<string, string>();
  let spoolPath: string | null = null;
  let file: ReceivedUpload['file'] = null;
  let failure: GatewayError | null = null;
  const writes: Promise<void>[] = [];
  const discard = async () => {
    if (spoolPath) await rm(spoolPath, { force: true }).catch(() => {});
  };
  let fileStream: Readable | null = null;
  let settleOnFailure = () => {};
  const failed = new Promise<void>((resolve) => {
    settleOnFailure = resolve;
  });
  // On the first error the rest of the body is read and dropped (the client may still be sending) and the answer goes at once.
  const fail = (error: GatewayError) => {
    if (failure) return;
    failure = error;
    source.unpipe(parser);
    source.resume();
    fileStream?.destroy();
    settleOnFailure();
  };
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) fail(invalid(`The field '${name}' is longer than 65536 bytes`));
    else fields.set(name, value);
  });
  parser.on('file', (name, stream, info) => {
    if (name !== 'file' || spoolPath !== null) {
      stream.resume();
      fail(
        invalid(name === 'file' ? 'Only one file may be uploaded per request' : `Unexpected file part '${name}': the file goes in 'file'`),
      );
      return;
    }
    spoolPath = join(limits.spoolDir, `modelgate-upload-${randomUUID()}`);
    const path = spoolPath;
    fileStream = stream;
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('limit', () => fail(tooLarge(limits.maxFileBytes)));
    writes.push(
      pipeline(stream, createWriteStream(path, { mode: 0o600 })).then(
        () => {
          file = { path, filename: info.filename || 'upload', contentType: info.mimeType || 'application/octet-stream', bytes };
        },
        (error: unknown) =>
          fail(
            new GatewayError(`Could not spool the upload: ${(error as Error).message}`, {
              status: 500,
              code: 'spool_failed',
              cause: error,
            }),
          ),
      ),
    );
  });
  parser.on('filesLimit', () => fail(invalid('Only one file may be uploaded per request')));
  parser.on('fieldsLimit', () => fail(invalid('Too many form fields')));
  parser.on('partsLimit', () => fail(invalid('Too many multipart parts')));
  try {
    const parsed = new Promise<void>((resolve, reject) => {
      const onAbort = () =>
        reject(new GatewayError('Client closed the request', { status: 499, code: 'client_closed_request', retryable: false }));
      request.signal.addEventListener('abort', onAbort, { once: true });
      parser.once('close', resolve);
      parser.once('error', (error: Error) => reject(invalid(`Invalid multipart body: ${error.message}`)));
      source.once('error', onAbort);
      source.pipe(parser);
    });
    // Settled by the failure first, the parse may still reject later: that rejection is expected and dropped.
    parsed.catch(() => {});
    await Promise.race([parsed.then(() => Promise.all(writes)), failed]);
  } catch (error) {
    await discard();
    throw error;
  }
  if (failure) {
    await discard();
    throw failure;
  }
  return { fields, file, discard };
}
