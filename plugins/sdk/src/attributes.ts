/**
 * Mount attributes, parsed. The controller (and the CSI driver) send one flat string map: the SecretProviderClass
 * `parameters` plus well-known `csi.storage.k8s.io/` keys. A provider gets them split: typed pod and ServiceAccount
 * fields, the SPC `parameters`, and `all` as received; the tokens attribute arrives parsed in `tokens` instead.
 */
import { SecretProviderClassMisconfigured } from './errors.js';

export const POD_NAME_ATTRIBUTE = 'csi.storage.k8s.io/pod.name';
export const POD_NAMESPACE_ATTRIBUTE = 'csi.storage.k8s.io/pod.namespace';
export const POD_UID_ATTRIBUTE = 'csi.storage.k8s.io/pod.uid';
export const SERVICE_ACCOUNT_NAME_ATTRIBUTE = 'csi.storage.k8s.io/serviceAccount.name';
export const SERVICE_ACCOUNT_TOKENS_ATTRIBUTE = 'csi.storage.k8s.io/serviceAccount.tokens';
export const EPHEMERAL_ATTRIBUTE = 'csi.storage.k8s.io/ephemeral';
/** Attributes under this prefix are set by kubelet, the driver or the controller, never by the SPC author. */
export const WELL_KNOWN_ATTRIBUTE_PREFIX = 'csi.storage.k8s.io/';

export class MountAttributes {
  /**
   * The namespace of the SecretSync (of the pod, under the CSI driver). The secret is synced into it: use it to
   * scope what a namespace may read.
   */
  readonly podNamespace: string;
  /** The controller's own pod name (the workload pod under the CSI driver); may be empty outside a cluster. */
  readonly podName: string;
  readonly podUid: string;
  /** The ServiceAccount the SecretSync names: the identity to fetch as (its tokens are in `tokens`). */
  readonly serviceAccountName: string;
  /** The SecretProviderClass `spec.parameters`: every attribute outside `csi.storage.k8s.io/`. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Every attribute as received, except the tokens attribute. */
  readonly all: Readonly<Record<string, string>>;

  constructor(raw: Readonly<Record<string, string>>) {
    const entries = Object.entries(raw).filter(([key]) => key !== SERVICE_ACCOUNT_TOKENS_ATTRIBUTE);
    for (const [key, value] of entries) {
      if (typeof value !== 'string') throw new TypeError(`attribute ${JSON.stringify(key)} is not a string`);
    }
    // Object.fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
    const all: Record<string, string> = Object.fromEntries(entries);
    this.all = Object.freeze(all);
    this.parameters = Object.freeze(Object.fromEntries(entries.filter(([key]) => !key.startsWith(WELL_KNOWN_ATTRIBUTE_PREFIX))));
    const own = (key: string): string => (Object.hasOwn(all, key) ? all[key]! : '');
    this.podName = own(POD_NAME_ATTRIBUTE);
    this.podNamespace = own(POD_NAMESPACE_ATTRIBUTE);
    this.podUid = own(POD_UID_ATTRIBUTE);
    this.serviceAccountName = own(SERVICE_ACCOUNT_NAME_ATTRIBUTE);
    Object.freeze(this);
  }

  /** A parameter, or undefined when it is absent. */
  get(name: string): string | undefined {
    return Object.hasOwn(this.parameters, name) ? this.parameters[name] : undefined;
  }

  /** A parameter that must be set and not blank; else SecretProviderClassMisconfigured naming it. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined || value.trim() === '') {
      throw new SecretProviderClassMisconfigured(`parameter "${name}" is not set in the SecretProviderClass`);
    }
    return value;
  }

  /**
   * A parameter parsed as JSON (undefined when absent); SecretProviderClassMisconfigured when it does not parse.
   * The message never echoes the value.
   */
  json(name: string): unknown {
    const text = this.get(name);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SecretProviderClassMisconfigured(`parameter "${name}" is not valid JSON`);
    }
  }

  /** A boolean parameter (`true`/`false`, any case); `fallback` when absent. */
  boolean(name: string, fallback = false): boolean {
    const text = this.get(name)?.trim().toLowerCase();
    if (text === undefined || text === '') return fallback;
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw new SecretProviderClassMisconfigured(`parameter "${name}" must be true or false`);
  }
}

/** Parses raw attributes (all strings) into MountAttributes. */
export function parseAttributes(raw: Readonly<Record<string, string>>): MountAttributes {
  return new MountAttributes(raw);
}
