// A standalone entry for `check` alone (`node dist/checker/cli/check-main.js check FILE...`), used
// by tests and scripts that do not need the full `traft` CLI.
import { Command } from 'commander';
import { EXIT_USAGE } from '../result.js';
import { addCheckCommand } from './check.js';

const program = new Command('traft');
program.exitOverride();
addCheckCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has already printed its one-line message for bad flags.
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
  if (typeof code === 'string' && code.startsWith('commander.')) process.exit(EXIT_USAGE);
  throw error;
}
