/**
 * The fake provider's `objects` SPC parameter. Two YAML (or JSON, a subset of YAML) forms are accepted:
 *
 * 1. A list; each item is an object name or `{objectName, value?}`:
 *      objects: |
 *        - foo
 *        - objectName: tls.crt
 *          value: "-----BEGIN CERTIFICATE-----..."
 *    (`objects: '["foo", {"objectName": "bar", "value": "x"}]'` is the same list in JSON.)
 * 2. Upstream's e2e-provider form, a map `array:` of YAML strings, each `{objectName, objectVersion?, value?}`:
 *      objects: |
 *        array:
 *          - |
 *            objectName: foo
 *            objectVersion: ""
 *
 * Parse errors never echo the parameter (it is user data, and the messages end up in conditions).
 */
import { parse } from 'yaml';

export interface FakeObjectSpec {
  objectName: string;
  /** Content at version 1; default `<objectName>-value-v1`. */
  value?: string;
}

export class FakeObjectsError extends Error {}

export function parseObjects(text: string): FakeObjectSpec[] {
  const doc = parseYaml(text, 'objects');
  if (Array.isArray(doc)) return doc.map((item, i) => objectSpec(item, i));
  if (isRecord(doc) && Array.isArray(doc.array)) {
    return doc.array.map((item: unknown, i: number) => {
      if (typeof item !== 'string') throw new FakeObjectsError(`objects.array[${i}] is not a string`);
      return objectSpec(parseYaml(item, `objects.array[${i}]`), i);
    });
  }
  throw new FakeObjectsError('objects must be a list or a map with an "array" list');
}

function objectSpec(item: unknown, index: number): FakeObjectSpec {
  if (typeof item === 'string') return { objectName: item };
  if (!isRecord(item) || typeof item.objectName !== 'string') {
    throw new FakeObjectsError(`object ${index} has no string objectName`);
  }
  if (item.value !== undefined && typeof item.value !== 'string') {
    throw new FakeObjectsError(`object ${index} has a value that is not a string`);
  }
  return item.value === undefined ? { objectName: item.objectName } : { objectName: item.objectName, value: item.value };
}

function parseYaml(text: string, what: string): unknown {
  try {
    return parse(text);
  } catch {
    throw new FakeObjectsError(`failed to parse ${what} as YAML`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The deterministic content of an object at a version (1 + number of rotations): an explicit value is returned
 * verbatim at version 1 and suffixed `-v<n>` after rotations; otherwise `<objectName>-value-v<n>`.
 */
export function objectValue(spec: FakeObjectSpec, version: number): string {
  if (spec.value !== undefined) return version === 1 ? spec.value : `${spec.value}-v${version}`;
  return `${spec.objectName}-value-v${version}`;
}
