import { decodePemBlocks, encodePem, looksLikePem, PemFormatError } from './pem.js';

const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
const b64 = bytes.toString('base64');

describe('encodePem', () => {
  test('64-character lines, trailing newline, no headers', () => {
    const pem = encodePem('TEST', bytes);
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN TEST-----');
    expect(lines[lines.length - 1]).toBe('-----END TEST-----');
    expect(lines.slice(1, -1).map((l) => l.length)).toEqual([64, 64, b64.length - 128]);
    expect(pem.endsWith('-----END TEST-----\n')).toBe(true);
  });

  test('empty body', () => {
    expect(encodePem('X', Buffer.alloc(0))).toBe('-----BEGIN X-----\n-----END X-----\n');
  });
});

describe('decodePemBlocks', () => {
  test('round trip, order, labels, surrounding text ignored', () => {
    const input = `junk\n${encodePem('A', bytes)}middle\n${encodePem('B C', bytes.subarray(0, 3))}trailer`;
    const blocks = decodePemBlocks(Buffer.from(input));
    expect(blocks.map((b) => b.label)).toEqual(['A', 'B C']);
    expect(blocks[0]?.bytes.equals(bytes)).toBe(true);
    expect(blocks[1]?.bytes.equals(bytes.subarray(0, 3))).toBe(true);
  });

  test('headers are parsed (with continuation lines) and not part of the body', () => {
    const input = `-----BEGIN K-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,\n  ABCDEF\n\n${b64}\n-----END K-----\n`;
    const [block] = decodePemBlocks(Buffer.from(input));
    expect(block?.headers).toEqual({ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,ABCDEF' });
    expect(block?.bytes.equals(bytes)).toBe(true);
  });

  test('no BEGIN line: no blocks', () => {
    expect(decodePemBlocks(Buffer.from('hello'))).toEqual([]);
    expect(looksLikePem(Buffer.from('hello'))).toBe(false);
    expect(looksLikePem(Buffer.from(`x${encodePem('A', bytes)}`))).toBe(true);
  });

  test.each([
    ['bad base64', `-----BEGIN A-----\n${b64.slice(0, 10)}*${b64.slice(11)}\n-----END A-----\n`, 'PEM block 1 (A) has an invalid base64 body'],
    ['bad padding length', `-----BEGIN A-----\nQUJD\nQQ\n-----END A-----\n`, 'PEM block 1 (A) has an invalid base64 body'],
    ['mismatched END', `-----BEGIN A-----\n${b64}\n-----END B-----\n`, 'PEM block 1 (A) ends with a mismatched END line'],
    ['dangling BEGIN at the end', `${encodePem('A', bytes)}-----BEGIN B-----\nQUJD\n`, 'PEM block 2 has a BEGIN line without a matching END line'],
    ['dangling BEGIN in the middle', `-----BEGIN B-----\n${encodePem('A', bytes)}`, 'PEM block 1 has a BEGIN line without a matching END line'],
  ])('%s fails with a message that names the block only', (_name, input, message) => {
    let caught: unknown;
    try {
      decodePemBlocks(Buffer.from(input));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PemFormatError);
    expect((caught as Error).message).toBe(message);
  });
});
