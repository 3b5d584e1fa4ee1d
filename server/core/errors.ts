// Typed errors of the TRaft core. Broken invariants are not errors: they fail an `assert` and stop
// the process. These classes cover bad input that reaches the core from outside.

/** Bytes that do not decode into a PersistOp batch or a Message; `path` names the bad field. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly path: string;

  constructor(path: string, message: string) {
    super(`invalid ${path}: ${message}`);
    this.path = path;
  }
}

/** A NodeOptions value the node cannot run with; the message names the option and the fix. */
export class NodeOptionsError extends Error {
  override readonly name = 'NodeOptionsError';
}
