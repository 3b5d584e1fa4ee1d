// The live status line: on a TTY one line rewritten in place every second; otherwise a plain line
// every `plainIntervalMs`, so CI logs stay readable.
import type { ActiveFaults } from './nemesis.js';
import type { OutcomeCounts } from './recorder.js';

export interface StatusSource {
  phase(): string;
  elapsedNs(): number;
  limitS: number;
  counts(): OutcomeCounts;
  faults(): ActiveFaults;
}

export function describeFaults(faults: ActiveFaults): string {
  const parts: string[] = [];
  if (faults.killed.length > 0) parts.push(`killed ${faults.killed.join(',')}`);
  if (faults.paused.length > 0) parts.push(`paused ${faults.paused.join(',')}`);
  if (faults.partition !== undefined) parts.push(`partition ${faults.partition.shape} ${faults.partition.groups.map((group) => group.join(',')).join('|')}`);
  return parts.length === 0 ? 'no faults' : parts.join('; ');
}

export function formatStatus(source: StatusSource): string {
  const counts = source.counts();
  const elapsedS = (source.elapsedNs() / 1e9).toFixed(0);
  return `[${source.phase()}] ${elapsedS}/${source.limitS}s  ok ${counts.ok}  fail ${counts.fail}  info ${counts.info}  | ${describeFaults(source.faults())}`;
}

export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private lastPlainMs = 0;

  constructor(
    private readonly source: StatusSource,
    private readonly stream: NodeJS.WriteStream,
    private readonly plainIntervalMs = 10_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.render(), 1_000);
    this.timer.unref();
  }

  /** Stops updating and ends the TTY line, so later output starts on a fresh line. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private render(): void {
    const line = formatStatus(this.source);
    if (this.stream.isTTY) {
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, width - 1))}`);
      return;
    }
    const nowMs = Date.now();
    if (nowMs - this.lastPlainMs < this.plainIntervalMs) return;
    this.lastPlainMs = nowMs;
    this.stream.write(`${line}\n`);
  }
}
