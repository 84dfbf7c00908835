/**
 * bzip2 decoding through seek-bzip (pure JavaScript, so no native build on install). The decoder emits
 * one byte at a time; we collect them into fixed-size pieces and hand each piece on, so the parser and
 * the hash stream over the text instead of waiting for one big buffer.
 */
import Bunzip from 'seek-bzip';
import { DcompError } from '../core/errors.js';

/** `BZh` followed by the block-size digit 1–9. */
export function isBzip2(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x42 && bytes[1] === 0x5a && bytes[2] === 0x68 && bytes[3] >= 0x31 && bytes[3] <= 0x39;
}

/**
 * Decodes `input` (one or more concatenated bzip2 streams) and calls `onChunk` with consecutive pieces
 * of the output. The piece's buffer is reused afterwards: consumers must copy what they keep.
 */
export function bunzip2Chunks(input: Uint8Array, onChunk: (chunk: Uint8Array) => void, file: string, chunkSize = 1 << 18): void {
  const piece = new Uint8Array(chunkSize);
  let used = 0;
  const sink = {
    writeByte(byte: number): void {
      piece[used++] = byte;
      if (used === chunkSize) {
        used = 0;
        onChunk(piece);
      }
    },
  };
  try {
    Bunzip.decode(input, sink, true);
  } catch (err) {
    if (err instanceof DcompError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new DcompError(`${file}: not a valid bzip2 file (${detail})`);
  }
  if (used > 0) onChunk(piece.subarray(0, used));
}

/** Decodes a whole bzip2 buffer into memory. */
export function bunzip2(input: Uint8Array, file: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  let total = 0;
  bunzip2Chunks(input, (chunk) => {
    pieces.push(chunk.slice());
    total += chunk.length;
  }, file);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of pieces) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
