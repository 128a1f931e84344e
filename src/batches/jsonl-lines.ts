/** Splits a byte stream into JSONL lines (LF or CRLF), each at most `maxLineBytes`; empty lines are skipped. */
import { GatewayError } from '../core/errors.ts';

export async function* jsonlLines(source: AsyncIterable<Uint8Array>, maxLineBytes: number, what: string): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const tooLong = () =>
    new GatewayError(`A line of ${what} is longer than ${maxLineBytes} bytes`, {
      status: 400,
      code: 'batch_line_too_large',
      retryable: false,
    });
  for await (const piece of source) {
    let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let newline = chunk.indexOf(10);
    while (newline >= 0) {
      if (pendingBytes + newline > maxLineBytes) throw tooLong();
      pending.push(chunk.subarray(0, newline));
      const line = Buffer.concat(pending).toString('utf8').replace(/\r$/, '');
      pending = [];
      pendingBytes = 0;
      if (line.trim() !== '') yield line;
      chunk = chunk.subarray(newline + 1);
      newline = chunk.indexOf(10);
    }
    if (chunk.length > 0) {
      pendingBytes += chunk.length;
      if (pendingBytes > maxLineBytes) throw tooLong();
      // Copied: the source may reuse its buffer.
      pending.push(Buffer.from(chunk));
    }
  }
  const last = Buffer.concat(pending).toString('utf8').replace(/\r$/, '');
  if (last.trim() !== '') yield last;
}
