import { readFileSync } from 'node:fs';
import { checkSdkCompatibility, parseSemver, SDK_MAJOR, SDK_VERSION } from './version.js';

describe('SDK version', () => {
  test('equals the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
    expect(SDK_MAJOR).toBe(parseSemver(pkg.version)!.major);
  });

  test('parses semver with prerelease and build, rejects the rest', () => {
    expect(parseSemver('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: '' });
    expect(parseSemver('v2.0.0-rc.1+build.5')).toEqual({ major: 2, minor: 0, patch: 0, prerelease: 'rc.1' });
    for (const bad of ['1', '1.2', '1.2.x', '01.2.3', 'latest', '']) expect(parseSemver(bad)).toBeUndefined();
  });

  test('a plugin loads when its SDK major equals the host major', () => {
    expect(checkSdkCompatibility('1.0.0', '1.4.2')).toEqual({ compatible: true });
    expect(checkSdkCompatibility('1.4.2', '1.4.0')).toEqual({ compatible: true });
  });

  test('a newer minor loads with a note; another major or a non-semver version does not', () => {
    const newer = checkSdkCompatibility('1.5.0', '1.2.0');
    expect(newer.compatible).toBe(true);
    expect(newer.note).toContain('newer than this controller');
    const other = checkSdkCompatibility('2.0.0', '1.2.0');
    expect(other).toEqual({
      compatible: false,
      note: 'it was built for plugin SDK 2.0.0 (major 2), this controller supports SDK 1.x (1.2.0)',
    });
    expect(checkSdkCompatibility('0.9.0', '1.0.0').compatible).toBe(false);
    expect(checkSdkCompatibility('banana', '1.0.0')).toEqual({ compatible: false, note: 'its SDK version "banana" is not a semantic version' });
  });
});
