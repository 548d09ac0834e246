/** A control-plane failure with a one-line message that names the cause and, where there is one, the log file. */
export class ClusterError extends Error {
  constructor(message: string, readonly logFile?: string) {
    super(logFile ? `${message} (log: ${logFile})` : message);
    this.name = 'ClusterError';
  }
}
