/**
 * Change detection stored in `status.syncHash` (spec §3.6), keyed so that the hash reveals nothing.
 *
 * The hashed message uses upstream's inputs and layout:
 *   D = JSON of the data map, keys sorted, values standard base64 with padding: `{"k1":"djE=","k2":"..."}`
 *   P = `<byte length of D>:` + D                 (D derives from provider data, so it is length-prefixed)
 *   S = SPC uid | SPC generation | SecretSync uid | SecretSync generation | forceSynchronization
 * and is preceded by a context `ssc-sync-hash/v2`, NUL, `<byte length of the SecretSync uid>:<uid>` (the
 * per-object salt). The tag is HMAC-SHA256 under a secret key held only by the controller, stored as
 * `v2:<64 lowercase hex>` (upstream's `v1:` is PBKDF2-HMAC-SHA512 with 100 000 iterations and no secret).
 *
 * Why a keyed MAC: anyone who can read SecretSync status could otherwise test guesses of low-entropy secret values
 * offline. With a 32-byte random key that is impossible, and one HMAC costs microseconds, not 100 000 rounds.
 *
 * Edge cases:
 * - A missing uid is hashed as `''`, a missing generation as `0`, a missing forceSynchronization as `''`.
 * - Keys are sorted by UTF-16 code unit (the same as byte order for the ASCII keys the CRD allows); insertion
 *   order never matters. Integer-like keys ("1") are not reordered the way `JSON.stringify` of an object would.
 * - A different key yields different hashes: a controller started with `SyncHasher.withRandomKey()` re-applies
 *   every Secret once after each restart (harmless with server-side apply). Supply a persistent key to avoid it.
 * - A stored upstream `v1:` hash or an empty one never equals a `v2:` hash, so the first sync after a migration
 *   re-applies.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

export const SYNC_HASH_PREFIX = 'v2:';
/** Minimum key length accepted by `SyncHasher`: the SHA-256 output size, as RFC 2104 recommends for HMAC keys. */
export const MIN_SYNC_HASH_KEY_BYTES = 32;
const CONTEXT = 'ssc-sync-hash/v2\0';

export interface SyncHashInput {
  /** The Secret data exactly as it will be written. */
  data: Readonly<Record<string, Uint8Array>>;
  spcUid: string;
  spcGeneration: number;
  secretSyncUid: string;
  secretSyncGeneration: number;
  forceSynchronization: string;
}

/** The exact bytes that are MACed (exported for tests and for anyone auditing the format). */
export function syncHashMessage(input: SyncHashInput): Buffer {
  const chunks: Buffer[] = [];
  writeMessage(input, (chunk) => chunks.push(Buffer.from(chunk)));
  return Buffer.concat(chunks);
}

/** Pure form: `v2:` + hex HMAC-SHA256 of `syncHashMessage(input)` under `key`, streamed (no large copies). */
export function computeSyncHash(key: Uint8Array | KeyObject, input: SyncHashInput): string {
  const mac = createHmac('sha256', key);
  writeMessage(input, (chunk) => mac.update(chunk));
  return SYNC_HASH_PREFIX + mac.digest('hex');
}

/** Emits the message in pieces; D's byte length is computed up front, so D itself is never concatenated. */
function writeMessage(input: SyncHashInput, write: (chunk: string | Uint8Array) => void): void {
  const keys = Object.keys(input.data).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const entries = keys.map((k) => {
    const v = input.data[k] as Uint8Array;
    const quotedKey = JSON.stringify(k);
    return { head: `${quotedKey}:"`, value: v, length: Buffer.byteLength(quotedKey) + 3 + 4 * Math.ceil(v.byteLength / 3) };
  });
  const dLength = 2 + Math.max(0, entries.length - 1) + entries.reduce((sum, e) => sum + e.length, 0);
  const uid = input.secretSyncUid ?? '';
  write(`${CONTEXT}${Buffer.byteLength(uid)}:${uid}${dLength}:{`);
  entries.forEach((e, i) => {
    write(i === 0 ? e.head : `,${e.head}`);
    write(Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength).toString('base64'));
    write('"');
  });
  write('}');
  write([
    input.spcUid ?? '',
    String(input.spcGeneration ?? 0),
    uid,
    String(input.secretSyncGeneration ?? 0),
    input.forceSynchronization ?? '',
  ].join('|'));
}

/**
 * Holds the controller's hash key (as a KeyObject in a private field, so it is not printed or serialised with
 * the hasher) and hashes sync states.
 */
export class SyncHasher {
  readonly #key: KeyObject;

  /** Throws `RangeError` for a key shorter than `MIN_SYNC_HASH_KEY_BYTES`. The key bytes are copied. */
  constructor(key: Uint8Array) {
    if (key.byteLength < MIN_SYNC_HASH_KEY_BYTES) {
      throw new RangeError(`sync hash key must be at least ${MIN_SYNC_HASH_KEY_BYTES} bytes, got ${key.byteLength}`);
    }
    this.#key = createSecretKey(Buffer.from(key));
  }

  /** A hasher with a fresh 32-byte random key (hashes then change across restarts; see the module notes). */
  static withRandomKey(): SyncHasher {
    return new SyncHasher(randomBytes(MIN_SYNC_HASH_KEY_BYTES));
  }

  hash(input: SyncHashInput): string {
    return computeSyncHash(this.#key, input);
  }

  /** True when `stored` (a `status.syncHash`) is the hash of `input` under this key. */
  matches(stored: string | undefined, input: SyncHashInput): boolean {
    return stored !== undefined && stored === this.hash(input);
  }
}
