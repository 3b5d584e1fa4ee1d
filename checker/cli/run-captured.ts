// Runs `traft check` in-process with stdout and stderr captured, for tests of the command.
import { runCheck, type CheckCliOptions } from './check.js';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs runCheck on `files` and returns its exit code and everything it printed. */
export async function runCheckCaptured(files: string[], options: CheckCliOptions = {}): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => {
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runCheck(files, options);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}
