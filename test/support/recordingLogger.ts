import { format } from 'node:util';
import type { Logger } from '../../shared/logger';

type Level = 'log' | 'warn' | 'error';

/** A Logger that keeps what was logged, so tests can assert on it. */
export function recordingLogger(): Logger & { lines(level: Level): string[] } {
  const entries: { level: Level; line: string }[] = [];
  const record = (level: Level) => (...args: unknown[]) => {
    entries.push({ level, line: format(...args) });
  };
  return {
    log: record('log'),
    warn: record('warn'),
    error: record('error'),
    lines: (level) => entries.filter((entry) => entry.level === level).map((entry) => entry.line),
  };
}
