/**
 * Encodes the multipart/form-data body sent to a provider (RFC 7578): text fields, then one file read from
 * disk as it is sent, with an exact Content-Length. Quotes, CR and LF in names are percent-encoded as the
 * WHATWG HTML standard encodes form data (https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#multipart-form-data).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  path: string;
  bytes: number;
}

function escapeName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function encodeMultipart(fields: [string, string][], file: MultipartFile): { body: Readable; headers: Record<string, string> } {
  const boundary = `----modelgate${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    fields
      .map(([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${escapeName(name)}"\r\n\r\n${value}\r\n`)
      .join('') +
      `--${boundary}\r\ncontent-disposition: form-data; name="${escapeName(file.field)}"; filename="${escapeName(file.filename)}"\r\n` +
      `content-type: ${file.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* parts(): AsyncGenerator<Buffer> {
    yield head;
    for await (const chunk of createReadStream(file.path, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
    yield tail;
  }
  return {
    body: Readable.from(parts(), { objectMode: false }),
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + file.bytes + tail.length),
    },
  };
}
