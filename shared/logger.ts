/** What shared/ code logs through; functions pass `context`, tests pass a recorder. */
export interface Logger {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export const consoleLogger: Logger = console;
