// Typed errors of the controller. A UsageError is bad input from the user (exit 64, one line); a
// ClusterError is an operating failure of the servers under test.

/** Bad arguments or unreadable input: the CLI prints the message on one line and exits 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The cluster could not be started or controlled, for example no leader within the timeout. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
}

/** A run stopped because the controller received a signal. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}
