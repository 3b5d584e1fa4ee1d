// Locations the controller needs at run time, found from this module's own path so the built CLI
// (dist/controller/cli.js) and the TypeScript sources run by tests agree.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterError } from './errors.js';

/** The repository root: the nearest folder above this module with traft's package.json. */
export function repoRoot(): string {
  let folder = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    const manifest = path.join(folder, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'traft') return folder;
    folder = path.dirname(folder);
  }
  throw new ClusterError(`cannot find traft's package.json above ${fileURLToPath(import.meta.url)}`);
}

/** The built server entry; TRAFT_SERVER overrides it (for example to test another build). */
export function serverEntry(): string {
  const entry = process.env.TRAFT_SERVER ?? path.join(repoRoot(), 'dist', 'server', 'main.js');
  if (!existsSync(entry)) throw new ClusterError(`server entry ${entry} not found: build it with \`make build\` (or npx tsc -p tsconfig.json)`);
  return entry;
}

export function traftVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}
