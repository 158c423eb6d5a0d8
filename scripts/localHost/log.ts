import type { LogLevel } from './core';

/** Console output in the style of `func start`: `[timestamp] message`. */
export interface HostLog {
  write(level: LogLevel, message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function consoleHostLog(): HostLog {
  const write = (level: LogLevel, message: string): void => {
    // Like the Functions host's default "Information" level.
    if (level === 'trace' || level === 'debug' || level === 'none') return;
    const line = `[${new Date().toISOString()}] ${message}`;
    if (level === 'error' || level === 'critical') console.error(line);
    else if (level === 'warning') console.warn(line);
    else console.log(line);
  };
  return {
    write,
    info: (message) => write('information', message),
    warn: (message) => write('warning', message),
    error: (message) => write('error', message),
  };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}
