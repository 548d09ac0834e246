import { pino } from 'pino';
import type { Logger } from '../ports/observability.js';

/** Paths that could ever carry secret bytes or tokens; pino replaces them with [REDACTED]. */
export const REDACT_PATHS = [
  'token', '*.token', 'tokens', '*.tokens', 'data', '*.data', 'contents', '*.contents', 'files', '*.files',
  'attributes', '*.attributes', 'secrets', '*.secrets', 'authorization', '*.authorization', 'headers', '*.headers',
  'body', '*.body', 'password', '*.password',
];

/** JSON logs to stdout (or the given stream) with redaction of every field that could carry a secret. */
export function createLogger(level: string, stream?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { component: 'secrets-store-sync-controller' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, stream as never) as unknown as Logger;
}
