/**
 * The `objects` parameter, in the fake provider's two forms (YAML or JSON):
 *
 *   objects: |                      # a list: names, or {objectName, value}
 *     - username
 *     - objectName: password
 *       value: hunter2
 *
 *   objects: |                      # upstream's e2e-provider form: a map `array:` of YAML strings
 *     array:
 *       - |
 *         objectName: foo
 *         objectVersion: ""
 */
import { SecretProviderClassMisconfigured } from '@secrets-sync/plugin-sdk';
import { parse } from 'yaml';

export interface FakeObject {
  objectName: string;
  /** Content at generation 1; default `<objectName>-value-v1`. */
  value?: string;
}

export function parseObjects(text: string): FakeObject[] {
  const doc = parseYaml(text, 'objects');
  if (Array.isArray(doc)) return doc.map((item, i) => objectOf(item, i));
  if (isRecord(doc) && Array.isArray(doc.array)) {
    return doc.array.map((item: unknown, i: number) => {
      if (typeof item !== 'string') throw new SecretProviderClassMisconfigured(`objects.array[${i}] is not a string`);
      return objectOf(parseYaml(item, `objects.array[${i}]`), i);
    });
  }
  throw new SecretProviderClassMisconfigured('objects must be a list or a map with an "array" list');
}

/** The content at a generation: an explicit value as is at 1, then `-v<n>`; else `<objectName>-value-v<n>`. */
export function objectValue(o: FakeObject, generation: number): string {
  if (o.value !== undefined) return generation === 1 ? o.value : `${o.value}-v${generation}`;
  return `${o.objectName}-value-v${generation}`;
}

function objectOf(item: unknown, i: number): FakeObject {
  if (typeof item === 'string') return { objectName: item };
  if (!isRecord(item) || typeof item.objectName !== 'string') {
    throw new SecretProviderClassMisconfigured(`object ${i} has no string objectName`);
  }
  if (item.value !== undefined && typeof item.value !== 'string') {
    throw new SecretProviderClassMisconfigured(`object ${i} has a value that is not a string`);
  }
  return item.value === undefined ? { objectName: item.objectName } : { objectName: item.objectName, value: item.value };
}

function parseYaml(text: string, what: string): unknown {
  try {
    return parse(text);
  } catch {
    throw new SecretProviderClassMisconfigured(`failed to parse ${what} as YAML`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
