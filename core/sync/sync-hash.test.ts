import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { computeSyncHash, MIN_SYNC_HASH_KEY_BYTES, SyncHasher, syncHashMessage, type SyncHashInput } from './sync-hash.js';

const key = Buffer.alloc(32, 7);
const base: SyncHashInput = {
  data: { username: Buffer.from('admin'), password: Buffer.from('hunter2') },
  spcUid: 'spc-uid-1',
  spcGeneration: 3,
  secretSyncUid: '6f1c2d3e-0000-4000-8000-000000000001',
  secretSyncGeneration: 5,
  forceSynchronization: '',
};
const hash = (input: SyncHashInput, k: Buffer = key) => computeSyncHash(k, input);

describe('sync hash format and determinism', () => {
  test('v2: prefix and 64 lowercase hex characters', () => {
    expect(hash(base)).toMatch(/^v2:[0-9a-f]{64}$/);
  });

  test('same inputs and key give the same hash; data key order does not matter', () => {
    const reordered = { ...base, data: { password: Buffer.from('hunter2'), username: Buffer.from('admin') } };
    expect(hash(reordered)).toBe(hash(base));
    expect(new SyncHasher(key).hash(base)).toBe(hash(base));
  });

  test('message layout: context, uid salt, length-prefixed sorted JSON, then the five fields', () => {
    const msg = syncHashMessage(base).toString('utf8');
    const d = '{"password":"aHVudGVyMg==","username":"YWRtaW4="}';
    expect(msg).toBe(`ssc-sync-hash/v2\0${base.secretSyncUid.length}:${base.secretSyncUid}${d.length}:${d}spc-uid-1|3|${base.secretSyncUid}|5|`);
    expect(hash(base)).toBe(`v2:${createHmac('sha256', key).update(msg).digest('hex')}`);
  });

  test('integer-like keys are sorted as strings, not reordered like JS object keys', () => {
    const msg = syncHashMessage({ ...base, data: { b: Buffer.from('1'), 10: Buffer.from('2'), 2: Buffer.from('3') } }).toString();
    expect(msg).toContain('{"10":"Mg==","2":"Mw==","b":"MQ=="}');
  });
});

describe('every input changes the hash', () => {
  const variants: [string, SyncHashInput][] = [
    ['a value', { ...base, data: { ...base.data, password: Buffer.from('hunter3') } }],
    ['a key name', { ...base, data: { user: Buffer.from('admin'), password: Buffer.from('hunter2') } }],
    ['an added key', { ...base, data: { ...base.data, extra: Buffer.alloc(0) } }],
    ['a removed key', { ...base, data: { username: Buffer.from('admin') } }],
    ['the SPC uid', { ...base, spcUid: 'spc-uid-2' }],
    ['the SPC generation', { ...base, spcGeneration: 4 }],
    ['the SecretSync uid', { ...base, secretSyncUid: '6f1c2d3e-0000-4000-8000-000000000002' }],
    ['the SecretSync generation', { ...base, secretSyncGeneration: 6 }],
    ['forceSynchronization', { ...base, forceSynchronization: 'now' }],
  ];
  test.each(variants)('%s', (_name, variant) => {
    expect(hash(variant)).not.toBe(hash(base));
  });

  test('all variants are pairwise distinct', () => {
    const hashes = new Set([hash(base), ...variants.map(([, v]) => hash(v))]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  test('the length prefix and JSON quoting keep key/value boundaries unambiguous', () => {
    const a = { ...base, data: { key1: Buffer.from('=value1') } };
    const b = { ...base, data: { 'key1=': Buffer.from('value1') } };
    expect(hash(a)).not.toBe(hash(b));
    const c = { ...base, spcUid: 'a|1', spcGeneration: 2 };
    const d = { ...base, spcUid: 'a', spcGeneration: 1 };
    expect(hash(c)).not.toBe(hash(d));
  });
});

describe('keying', () => {
  test('another key gives another hash', () => {
    expect(hash(base, Buffer.alloc(32, 8))).not.toBe(hash(base));
    expect(SyncHasher.withRandomKey().hash(base)).not.toBe(SyncHasher.withRandomKey().hash(base));
  });

  test('the hash is not an unkeyed digest of the inputs (a reader of status cannot recompute it)', () => {
    const unkeyed = createHmac('sha256', Buffer.alloc(0)).update(syncHashMessage(base)).digest('hex');
    expect(hash(base)).not.toBe(`v2:${unkeyed}`);
  });

  test('short keys are refused; the key is copied, not referenced', () => {
    expect(() => new SyncHasher(Buffer.alloc(MIN_SYNC_HASH_KEY_BYTES - 1))).toThrow(RangeError);
    const k = Buffer.from(key);
    const hasher = new SyncHasher(k);
    const before = hasher.hash(base);
    k.fill(0);
    expect(hasher.hash(base)).toBe(before);
  });

  test('the key does not leak through inspection or JSON', () => {
    const k = randomBytes(32);
    const hasher = new SyncHasher(k);
    const hex = k.toString('hex');
    const b64 = k.toString('base64');
    for (const shown of [inspect(hasher, { showHidden: true, depth: 5 }), JSON.stringify(hasher)]) {
      expect(shown).not.toContain(hex);
      expect(shown).not.toContain(b64);
    }
  });

  test('matches() compares a stored status value', () => {
    const hasher = new SyncHasher(key);
    expect(hasher.matches(hash(base), base)).toBe(true);
    expect(hasher.matches(undefined, base)).toBe(false);
    expect(hasher.matches('v1:' + hash(base).slice(3), base)).toBe(false);
  });
});

describe('cost', () => {
  test('timing over 1000 runs (reported, not asserted)', () => {
    const hasher = SyncHasher.withRandomKey();
    const typical: SyncHashInput = {
      ...base,
      data: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`key-${i}`, randomBytes(1024)])),
    };
    const tls: SyncHashInput = { ...base, data: { 'tls.crt': randomBytes(4096), 'tls.key': randomBytes(1700) } };
    const large: SyncHashInput = { ...base, data: { blob: randomBytes(1024 * 1024 - 10) } };
    const measure = (input: SyncHashInput, runs: number): number => {
      for (let i = 0; i < 50; i++) hasher.hash(input);
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) hasher.hash(input);
      return Number(process.hrtime.bigint() - start) / 1e3 / runs;
    };
    const results = {
      'typical (5 x 1 KiB)': measure(typical, 1000),
      'tls (4 KiB + 1.7 KiB)': measure(tls, 1000),
      'max (1 MiB)': measure(large, 50),
    };
    console.log(`sync hash cost, microseconds per hash: ${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(1)) : v))}`);
    expect(Object.values(results).every((v) => v > 0)).toBe(true);
  });
});
