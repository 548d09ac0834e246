import { encodedResultSize, filePathProblem, InvalidMountResultError, normalizeMountResult } from './result.js';

const ok = { files: [{ path: 'a/b', contents: 'héllo', mode: 0o600 }, { path: 'c', contents: new Uint8Array([1, 2]) }], objectVersions: [{ id: 'x', version: '1' }] };

describe('normalizeMountResult', () => {
  test('encodes string contents as UTF-8 and keeps bytes and modes', () => {
    const r = normalizeMountResult(ok);
    expect(r.files.map((f) => [f.path, f.mode, Buffer.from(f.contents).toString('hex')])).toEqual([
      ['a/b', 0o600, Buffer.from('héllo').toString('hex')],
      ['c', undefined, '0102'],
    ]);
    expect(r.objectVersions).toEqual([{ id: 'x', version: '1' }]);
  });

  test.each([
    [null, 'the result is null, not an object'],
    ['x', 'the result is a string, not an object'],
    [{ objectVersions: [] }, 'files is undefined, not an array'],
    [{ files: [] }, 'objectVersions is undefined, not an array'],
    [{ files: [], objectVersions: [] }, 'missing object versions'],
    [{ files: [7], objectVersions: [{ id: 'x', version: '1' }] }, 'files[0] is a number, not an object'],
    [{ files: [{ path: 1, contents: '' }], objectVersions: [] }, 'files[0].path is a number, not a string'],
    [{ files: [{ path: '../etc/passwd', contents: '' }], objectVersions: [] }, 'unsafe file path "../etc/passwd": contains a ".." element'],
    [{ files: [{ path: '/abs', contents: '' }], objectVersions: [] }, 'unsafe file path "/abs": absolute path'],
    [{ files: [{ path: 'a', contents: 5 }], objectVersions: [] }, 'files[0].contents ("a") is a number, not a string or Uint8Array'],
    [{ files: [{ path: 'a', contents: '', mode: 0o1000 }], objectVersions: [] }, 'files[0].mode ("a") must be an integer 0..511'],
    [{ files: [], objectVersions: [{ id: 1, version: '1' }] }, 'objectVersions[0].id is a number, not a string'],
    [{ files: [], objectVersions: [{ id: 'x' }] }, 'objectVersions[0].version is undefined, not a string'],
  ])('rejects %j', (value, message) => {
    expect(() => normalizeMountResult(value)).toThrow(new InvalidMountResultError(message));
  });

  test('file path rules: empty, NUL, absolute, ".." elements; dots inside names are fine', () => {
    expect(filePathProblem('')).toBe('empty path');
    expect(filePathProblem('a\0b')).toBe('contains a NUL byte');
    expect(filePathProblem('/a')).toBe('absolute path');
    expect(filePathProblem('a/../b')).toBe('contains a ".." element');
    expect(filePathProblem('..')).toBe('contains a ".." element');
    for (const fine of ['a', 'a/b', '..a', 'a..', '.hidden', 'a/./b', 'tls.crt']) expect(filePathProblem(fine)).toBeUndefined();
  });

  test('the wire size grows with contents', () => {
    const small = encodedResultSize(normalizeMountResult(ok));
    const big = encodedResultSize(normalizeMountResult({ ...ok, files: [{ path: 'a', contents: 'x'.repeat(300) }] }));
    expect(small).toBeGreaterThan(10);
    expect(big).toBeGreaterThan(300);
  });
});
