/** Structured logger (pino-compatible): constant messages, fields in the first argument. */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  child(bindings: object): Logger;
}
export const Logger = Symbol('Logger');

export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
};

/** What the controller measures. Labels never carry secret material. */
export interface Metrics {
  syncFinished(result: 'success' | 'error', reason: string, seconds: number): void;
  providerCall(provider: string, ok: boolean, seconds: number): void;
  queueDepth(n: number): void;
  lastSuccessfulSync(namespace: string, name: string, epochSeconds: number): void;
  forget(namespace: string, name: string): void;
}
export const Metrics = Symbol('Metrics');

export const noopMetrics: Metrics = {
  syncFinished() {}, providerCall() {}, queueDepth() {}, lastSuccessfulSync() {}, forget() {},
};
