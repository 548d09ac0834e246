/**
 * The SDK's semantic version. `definePlugin` stamps it into every plugin, and the controller loads a plugin only
 * when the plugin's SDK major equals its own: a major bump is a change to the contract between plugins and hosts.
 * Kept equal to `version` in this package's package.json (a unit test checks it).
 */
export const SDK_VERSION = '1.0.0';

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses `MAJOR.MINOR.PATCH[-pre][+build]` (a leading `v` is tolerated); undefined when it is not semver. */
export function parseSemver(text: string): SemVer | undefined {
  const m = SEMVER.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ?? '' };
}

/** The SDK major this copy of the SDK implements. */
export const SDK_MAJOR = parseSemver(SDK_VERSION)!.major;

export interface SdkCompatibility {
  compatible: boolean;
  /** Why not, or a note (a newer minor) when compatible; undefined when there is nothing to say. */
  note?: string;
}

/**
 * Whether a plugin built against `pluginSdkVersion` can run on a host with `hostSdkVersion`: same major. A plugin
 * built for a newer minor still loads (minors only add optional things), with a note the host logs.
 */
export function checkSdkCompatibility(pluginSdkVersion: string, hostSdkVersion: string = SDK_VERSION): SdkCompatibility {
  const plugin = parseSemver(pluginSdkVersion);
  const host = parseSemver(hostSdkVersion);
  if (!host) throw new Error(`host SDK version "${hostSdkVersion}" is not semver`);
  if (!plugin) {
    return { compatible: false, note: `its SDK version ${JSON.stringify(pluginSdkVersion)} is not a semantic version` };
  }
  if (plugin.major !== host.major) {
    return {
      compatible: false,
      note: `it was built for plugin SDK ${pluginSdkVersion} (major ${plugin.major}), this controller supports SDK ${host.major}.x (${hostSdkVersion})`,
    };
  }
  if (plugin.minor > host.minor) {
    return {
      compatible: true,
      note: `it was built for plugin SDK ${pluginSdkVersion}, newer than this controller's ${hostSdkVersion}; features added after ${host.major}.${host.minor} are ignored`,
    };
  }
  return { compatible: true };
}
