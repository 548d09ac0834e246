/** A control-plane failure with a one-line message that names the cause and, where there is one, the log file. */
export class ClusterError extends Error {
  readonly logFile?: string;
  constructor(message: string, logFile?: string) {
    super(logFile ? `${message} (log: ${logFile})` : message);
    this.logFile = logFile;
    this.name = 'ClusterError';
  }
}
