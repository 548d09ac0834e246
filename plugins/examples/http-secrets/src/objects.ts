/**
 * The `objects` parameter of a SecretProviderClass using this provider: a YAML (or JSON) list, one entry per file.
 *
 *   parameters:
 *     objects: |
 *       - objectName: db-password        # the file name: what SecretSync.spec.secretObject.data[].sourcePath names
 *         path: databases/main           # GET <baseUrl>/databases/main (default: objectName)
 *         field: data.password           # dotted path into a JSON answer (default: the whole body)
 *         versionField: metadata.version # dotted path to the version (default: the ETag header, else a hash)
 *         encoding: base64               # the value is base64 (default: text)
 */
import { SecretProviderClassMisconfigured } from '@secrets-sync/plugin-sdk';
import { parse } from 'yaml';

export interface ObjectSpec {
  objectName: string;
  path: string;
  field?: string;
  versionField?: string;
  encoding: 'utf8' | 'base64';
}

const KEYS = ['objectName', 'path', 'field', 'versionField', 'encoding'];

export function parseObjects(text: string): ObjectSpec[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    throw new SecretProviderClassMisconfigured('parameter "objects" is not valid YAML');
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new SecretProviderClassMisconfigured('parameter "objects" must be a non-empty list');
  const specs = doc.map((item: unknown, i) => objectSpec(item, i));
  const names = specs.map((s) => s.objectName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SecretProviderClassMisconfigured(`objects: objectName "${dup}" is used twice`);
  return specs;
}

function objectSpec(item: unknown, i: number): ObjectSpec {
  const bad = (what: string): never => {
    throw new SecretProviderClassMisconfigured(`objects[${i}]: ${what}`);
  };
  if (typeof item === 'string') item = { objectName: item };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return bad('must be a mapping with objectName');
  const o = item as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) bad(`unknown key "${key}"`);
  const str = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') return bad(`${key} must be a non-empty string`);
    return v;
  };
  const objectName = str('objectName') ?? bad('objectName is required');
  if (objectName.startsWith('/') || objectName.split('/').includes('..') || objectName.includes('\0')) {
    bad(`objectName "${objectName}" must be a relative file name without ".."`);
  }
  const path = str('path') ?? objectName;
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/') || path.split('/').some((s) => s === '..' || s === '.')) {
    bad(`path "${path}" must be relative to the store's baseUrl (no scheme, no leading "/", no "." or ".." segments)`);
  }
  if (/[?#]/.test(path)) bad(`path "${path}" must not have a query or fragment`);
  const encoding = str('encoding') ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') bad('encoding must be utf8 or base64');
  return { objectName, path, field: str('field'), versionField: str('versionField'), encoding: encoding as ObjectSpec['encoding'] };
}
