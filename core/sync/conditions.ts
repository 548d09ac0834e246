/**
 * Pure helpers for SecretSync status conditions with upstream's types, reasons and messages (spec §3.2, §3.8),
 * plus two fixes: a successful sync always clears a stale `False` condition (upstream §13.6 left a
 * `SecretUpdated=False` in place when the retry found the hash unchanged), and every condition written carries
 * `observedGeneration` when the caller knows it (upstream never set it, §13.15). No `Ready` summary is added.
 *
 * Semantics of `setCondition` follow apimachinery's `meta.SetStatusCondition`:
 * - a new type is appended with `lastTransitionTime` = now (or the time given);
 * - for an existing type, `lastTransitionTime` changes only when `status` flips; `reason`, `message` and
 *   `observedGeneration` are always overwritten (an absent `observedGeneration` removes it).
 * Lists are never mutated: every helper returns a new array with new condition objects where something changed.
 *
 * Times are RFC 3339 UTC with second precision (`2026-01-02T03:04:05Z`), as `metav1.Time` serialises.
 */
import { CONDITION_CREATED, CONDITION_UPDATED, type Condition, type SecretSyncStatus } from '../api/types.js';
import type { SyncError, SyncReason } from '../errors.js';

export { CONDITION_CREATED, CONDITION_UPDATED };
export type ConditionType = typeof CONDITION_CREATED | typeof CONDITION_UPDATED;

export const REASON_SYNC_STARTING = 'SyncStarting';
export const REASON_NO_UPDATES_ATTEMPTED_YET = 'NoUpdatesAttemptedYet';
export const REASON_CREATE_SUCCESSFUL = 'CreateSuccessful';
export const REASON_SECRET_UP_TO_DATE = 'SecretUpToDate';

export const MESSAGE_CREATE_SUCCESSFUL = 'Secret created successfully.';
export const MESSAGE_SECRET_UP_TO_DATE = 'Secret contains last observed values.';
export const MESSAGE_RESERVED_LABEL =
  'label secrets-store.sync.x-k8s.io is reserved for use by the Secrets Store Sync Controller';
export const MESSAGE_RESERVED_ANNOTATION =
  'annotation secrets-store.sync.x-k8s.io is reserved for use by the Secrets Store Sync Controller';
export const MESSAGE_HASH_FAILED = 'failed to compute state hash';

/** `failed to get SecretProviderClass "<name>": <err>` (reason SecretProviderClassMisconfigured). */
export function spcFetchFailedMessage(spcName: string, errText: string): string {
  return `failed to get SecretProviderClass "${spcName}": ${errText}`;
}
/** `fetching secrets from the provider failed: <err>` (reason depends on the failure). */
export function providerFetchFailedMessage(errText: string): string {
  return `fetching secrets from the provider failed: ${errText}`;
}
/** `failed to patch secret "<name>": <apiserver error>` (reason ControllerPatchError). */
export function patchFailedMessage(secretName: string, errText: string): string {
  return `failed to patch secret "${secretName}": ${errText}`;
}

/** Reasons that mark a failed sync; any condition carrying one forces a re-apply on the next reconcile. */
export const FAILED_REASONS: ReadonlySet<SyncReason> = new Set<SyncReason>([
  'SecretProviderClassMisconfigured',
  'InvalidClusterSecretAnnotationError',
  'InvalidClusterSecretLabelError',
  'ProviderError',
  'RemoteSecretStoreFetchFailed',
  'ControllerPatchError',
  'ControllerSyncError',
]);

/** The CRD's maximum condition message length; longer messages would make the status write fail validation. */
export const MAX_CONDITION_MESSAGE_LENGTH = 32768;

/** A condition to set; `lastTransitionTime` defaults to `now`. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** RFC 3339, UTC, whole seconds. */
export function conditionTime(now: Date | number): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/** `meta.SetStatusCondition` on a copy of `list`. Messages over the CRD limit are truncated. */
export function setCondition(list: readonly Condition[] | undefined, update: ConditionUpdate, now: Date | number): Condition[] {
  const message = truncateMessage(update.message);
  const result = [...(list ?? [])];
  const index = result.findIndex((c) => c.type === update.type);
  const existing = index === -1 ? undefined : (result[index] as Condition);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message,
    lastTransitionTime:
      existing !== undefined && existing.status === update.status
        ? existing.lastTransitionTime
        : (update.lastTransitionTime ?? conditionTime(now)),
  };
  if (update.observedGeneration !== undefined) next.observedGeneration = update.observedGeneration;
  if (index === -1) result.push(next);
  else result[index] = next;
  return result;
}

/** Upstream's starting pair: `SecretCreated` Unknown/SyncStarting and `SecretUpdated` Unknown/NoUpdatesAttemptedYet. */
export function initialConditions(now: Date | number, observedGeneration?: number): Condition[] {
  let list: Condition[] = [];
  list = setCondition(list, unknown(CONDITION_CREATED, REASON_SYNC_STARTING, observedGeneration), now);
  list = setCondition(list, unknown(CONDITION_UPDATED, REASON_NO_UPDATES_ATTEMPTED_YET, observedGeneration), now);
  return list;
}

/**
 * Upstream step 3: when fewer than 2 conditions exist, add the initial ones. Unlike upstream (which reset both),
 * a condition that already exists is kept as it is, since it records a real outcome.
 * Returns the same array when nothing was missing.
 */
export function ensureInitialConditions(
  list: readonly Condition[] | undefined,
  now: Date | number,
  observedGeneration?: number,
): readonly Condition[] {
  const current = list ?? [];
  if (current.length >= 2) return current;
  let result = [...current];
  for (const initial of initialConditions(now, observedGeneration)) {
    if (findCondition(result, initial.type) === undefined) result = setCondition(result, initial, now);
  }
  return result;
}

/** The condition type this run reports on: `SecretCreated` until a sync succeeded once (empty syncHash). */
export function conditionTypeForRun(status: SecretSyncStatus | undefined): ConditionType {
  return status?.syncHash ? CONDITION_UPDATED : CONDITION_CREATED;
}

/** True when any condition carries a failed reason (whatever its status), as upstream's step 8 checks. */
export function hasFailedCondition(list: readonly Condition[] | undefined): boolean {
  return (list ?? []).some((c) => FAILED_REASONS.has(c.reason as SyncReason));
}

/** How a sync run ended. `created` / `updated` are successes on the create / update path. */
export type SyncOutcome =
  | { kind: 'created' }
  | { kind: 'updated' }
  | { kind: 'failed'; error: SyncError; message?: string };

/**
 * The conditions after a sync run, starting from `status` as it was when the run began (its `syncHash` picks the
 * failure's condition type, even if the run changed or rolled back the hash).
 *
 * - `created`: `SecretCreated` True/CreateSuccessful and `SecretUpdated` True/SecretUpToDate.
 * - `updated`: `SecretUpdated` True/SecretUpToDate, even when the hash did not change (the upstream fix); a
 *   `SecretCreated` that is not True (stale, since the Secret now exists) becomes True/CreateSuccessful.
 * - `failed`: this run's type becomes False with the error's reason and `message` (default: the error message);
 *   the other condition is left alone, so `SecretUpdated` stays Unknown/NoUpdatesAttemptedYet before the first
 *   successful create, as upstream's tests expect.
 * Missing initial conditions are added first (see `ensureInitialConditions`).
 */
export function conditionsForOutcome(
  status: SecretSyncStatus | undefined,
  outcome: SyncOutcome,
  now: Date | number,
  observedGeneration?: number,
): Condition[] {
  let list = [...ensureInitialConditions(status?.conditions, now, observedGeneration)];
  const gen = observedGeneration;
  switch (outcome.kind) {
    case 'created':
      list = setCondition(list, created(gen), now);
      return setCondition(list, upToDate(gen), now);
    case 'updated':
      if (findCondition(list, CONDITION_CREATED)?.status !== 'True') list = setCondition(list, created(gen), now);
      return setCondition(list, upToDate(gen), now);
    case 'failed':
      return setCondition(list, {
        type: conditionTypeForRun(status),
        status: 'False',
        reason: outcome.error.reason,
        message: outcome.message ?? outcome.error.message,
        ...(gen !== undefined ? { observedGeneration: gen } : {}),
      }, now);
  }
}

function unknown(type: ConditionType, reason: string, observedGeneration?: number): ConditionUpdate {
  return { type, status: 'Unknown', reason, message: '', ...(observedGeneration !== undefined ? { observedGeneration } : {}) };
}

function created(observedGeneration?: number): ConditionUpdate {
  return {
    type: CONDITION_CREATED, status: 'True', reason: REASON_CREATE_SUCCESSFUL, message: MESSAGE_CREATE_SUCCESSFUL,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}

function upToDate(observedGeneration?: number): ConditionUpdate {
  return {
    type: CONDITION_UPDATED, status: 'True', reason: REASON_SECRET_UP_TO_DATE, message: MESSAGE_SECRET_UP_TO_DATE,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}

function truncateMessage(message: string): string {
  if (message.length <= MAX_CONDITION_MESSAGE_LENGTH) return message;
  const marker = ' ... (truncated)';
  let head = message.slice(0, MAX_CONDITION_MESSAGE_LENGTH - marker.length);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1); // never split a surrogate pair
  return head + marker;
}
