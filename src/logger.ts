/** A pino-compatible logger. */
export interface Logger {
  error(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
}

/** The default logger: drops everything. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
