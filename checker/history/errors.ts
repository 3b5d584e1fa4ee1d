// Errors raised while reading or validating a history file.

/** A history that cannot be read or is not well formed; `line` is 1-based, 0 when unknown. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
  }
}
