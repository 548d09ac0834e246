/**
 * Minimal, strict PEM (RFC 7468) reading and writing for the TLS mapper.
 *
 * Edge cases:
 * - Text outside blocks (comments, blank lines, a leading newline) is ignored, as Go's `pem.Decode` does.
 * - RFC 1421 headers inside a block (`Proc-Type: 4,ENCRYPTED`, `localKeyId: 01000000`) are parsed and kept in
 *   `headers`; they are never written back out (`encodePem` emits header-less blocks, which every consumer,
 *   OpenSSL included, can read).
 * - Unlike Go, which silently skips a block whose base64 body is broken, a broken body or a `BEGIN` line without
 *   its matching `END` line is an error (`PemFormatError`), so a truncated certificate cannot vanish unnoticed.
 * - Error messages name the block's position and label only, never its content.
 */

export interface PemBlock {
  /** The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`. */
  label: string;
  headers: Record<string, string>;
  /** The decoded body (DER for every label this module is used with). */
  bytes: Buffer;
}

/** Malformed PEM text; the message never quotes the data. */
export class PemFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PemFormatError';
  }
}

const BEGIN_MARKER = '-----BEGIN ';
const BLOCK_PATTERN = /-----BEGIN ([^\r\n-]+)-----\r?\n([\s\S]*?)-----END ([^\r\n-]+)-----/g;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when the content contains a PEM `BEGIN` line at all (such content is never treated as binary PKCS#12). */
export function looksLikePem(content: Uint8Array): boolean {
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).includes(BEGIN_MARKER, 0, 'latin1');
}

/**
 * Every PEM block in `content`, in order. Returns `[]` when there is no `BEGIN` line.
 * Throws `PemFormatError` for a block whose END label differs, whose body is not base64, or a dangling `BEGIN`.
 */
export function decodePemBlocks(content: Uint8Array): PemBlock[] {
  // latin1 maps every byte to one char, so binary noise around the blocks cannot break the scan.
  const text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
  const blocks: PemBlock[] = [];
  let consumedUpTo = 0;
  for (const match of text.matchAll(BLOCK_PATTERN)) {
    const position = blocks.length + 1;
    const start = match.index;
    if (text.slice(consumedUpTo, start).includes(BEGIN_MARKER)) {
      throw new PemFormatError(`PEM block ${position} has a BEGIN line without a matching END line`);
    }
    const [whole, label, body, endLabel] = match as unknown as [string, string, string, string];
    if (body.includes(BEGIN_MARKER)) {
      throw new PemFormatError(`PEM block ${position} has a BEGIN line without a matching END line`);
    }
    if (label !== endLabel) {
      throw new PemFormatError(`PEM block ${position} (${label}) ends with a mismatched END line`);
    }
    const { headers, base64 } = splitHeaders(body);
    if (base64.length % 4 !== 0 || !BASE64_PATTERN.test(base64)) {
      throw new PemFormatError(`PEM block ${position} (${label}) has an invalid base64 body`);
    }
    blocks.push({ label, headers, bytes: Buffer.from(base64, 'base64') });
    consumedUpTo = start + whole.length;
  }
  if (text.slice(consumedUpTo).includes(BEGIN_MARKER)) {
    throw new PemFormatError(`PEM block ${blocks.length + 1} has a BEGIN line without a matching END line`);
  }
  return blocks;
}

/** One PEM block: 64-character base64 lines, no headers, a trailing newline (as Go's `pem.EncodeToMemory`). */
export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.map((l) => `${l}\n`).join('')}-----END ${label}-----\n`;
}

/** Splits RFC 1421 headers (`Key: value` lines, with indented continuations) from the base64 body. */
function splitHeaders(body: string): { headers: Record<string, string>; base64: string } {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const lines = body.split(/\r?\n/);
  let i = 0;
  let lastKey: string | undefined;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (lastKey !== undefined && /^[ \t]/.test(line) && line.trim() !== '') {
      headers[lastKey] += line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) break;
    lastKey = line.slice(0, colon).trim();
    headers[lastKey] = line.slice(colon + 1).trim();
  }
  return { headers, base64: lines.slice(i).join('').replace(/[ \t\r\n]/g, '') };
}
