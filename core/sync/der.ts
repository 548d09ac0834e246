/**
 * Small, strict accessors over node-forge's ASN.1 tree, used to walk PKCS#12 structures.
 *
 * Edge cases: every accessor checks the tag it expects and throws `DerError` naming the structure (`what`),
 * never its content; BER constructed OCTET STRINGs (some Java and Windows writers use them) are joined; INTEGERs
 * are read as non-negative numbers, with -1 for negative values and +Infinity beyond 2^48 so that callers'
 * range checks reject them.
 */
import forge from 'node-forge';

export type Asn1 = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

/** Malformed DER; the message names the structure only. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Parses one complete DER value (trailing bytes are an error). */
export function parseDer(bytes: Uint8Array, what: string): Asn1 {
  const binary = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('binary');
  try {
    // forge's typings only declare the boolean form of the options argument.
    const options = { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean;
    return forge.asn1.fromDer(binary, options);
  } catch (err) {
    // forge's messages are fixed strings about structure ("Too few bytes to parse DER."), never data.
    throw new DerError(`malformed ${what}: ${shortText(err)}`);
  }
}

/** Re-serialises a node (used for PrivateKeyInfo structures, which are DER already). */
export function toDer(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

/** The children of a constructed node, requiring at least `min` of them. */
export function children(node: Asn1 | undefined, what: string, min: number): Asn1[] {
  if (node === undefined || !node.constructed || !Array.isArray(node.value) || node.value.length < min) {
    throw new DerError(`malformed ${what}`);
  }
  return node.value;
}

/** The i-th child, which must exist. */
export function child(nodes: Asn1[], index: number, what: string): Asn1 {
  const node = nodes[index];
  if (node === undefined) throw new DerError(`malformed ${what}`);
  return node;
}

/** The single child of an explicit context tag (`[n] EXPLICIT`). */
export function explicitContent(node: Asn1 | undefined, what: string): Asn1 {
  if (node === undefined || node.tagClass !== Class.CONTEXT_SPECIFIC) throw new DerError(`malformed ${what}`);
  return child(children(node, what, 1), 0, what);
}

/** OCTET STRING contents (or `[n] IMPLICIT OCTET STRING`), joining BER constructed segments. */
export function octetString(node: Asn1 | undefined, what: string): Buffer {
  if (node === undefined) throw new DerError(`malformed ${what}`);
  const isOctet = node.tagClass === Class.UNIVERSAL ? node.type === Type.OCTETSTRING : node.tagClass === Class.CONTEXT_SPECIFIC;
  if (!isOctet) throw new DerError(`malformed ${what}`);
  if (typeof node.value === 'string') return Buffer.from(node.value, 'binary');
  return Buffer.concat(node.value.map((segment) => octetString(segment, what)));
}

export function oid(node: Asn1 | undefined, what: string): string {
  if (node === undefined || node.tagClass !== Class.UNIVERSAL || node.type !== Type.OID || typeof node.value !== 'string') {
    throw new DerError(`malformed ${what}`);
  }
  return forge.asn1.derToOid(node.value);
}

export function integer(node: Asn1 | undefined, what: string): number {
  if (node === undefined || node.tagClass !== Class.UNIVERSAL || node.type !== Type.INTEGER || typeof node.value !== 'string') {
    throw new DerError(`malformed ${what}`);
  }
  const bytes = Buffer.from(node.value, 'binary');
  if (bytes.length === 0 || (bytes[0] as number) & 0x80) return -1;
  const firstNonZero = bytes.findIndex((b) => b !== 0);
  if (firstNonZero === -1) return 0;
  const significant = bytes.subarray(firstNonZero);
  if (significant.length > 6) return Number.POSITIVE_INFINITY;
  return significant.readUIntBE(0, significant.length);
}

export function shortText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
