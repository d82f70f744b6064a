/**
 * Logs are one JSON object per line on stdout, in the shape of Lambda's JSON application
 * logs (`timestamp`, `level`, `message`, then fields). `SNAPSTART_LOG_LEVEL` (`debug`,
 * `info`, `warn`, `error` or `silent`; default `info`) filters them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 }

/**
 * The active level, read from `SNAPSTART_LOG_LEVEL` at each call (cheap, and restore-safe):
 * one of the five levels in any case, blanks around ignored; `info` for anything else.
 */
export function logLevel(): LogLevel {
  const raw = process.env.SNAPSTART_LOG_LEVEL?.trim().toLowerCase()
  return raw !== undefined && Object.hasOwn(RANK, raw) ? (raw as LogLevel) : 'info'
}

/**
 * Writes one JSON log line when `level` passes the active level: `timestamp`, `level` and
 * `message` first, then `fields`. A field of one of those three names is ignored.
 */
export function log(
  level: Exclude<LogLevel, 'silent'>,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  if (RANK[level] < RANK[logLevel()]) return
  const head = { timestamp: new Date().toISOString(), level: level.toUpperCase(), message }
  // `head` first for the key order Lambda's logs use, and last so no field replaces it.
  writeJsonLine({ ...head, ...fields, ...head })
}

/**
 * Writes `value` to stdout as one line of JSON, whatever the log level: for log lines and
 * CloudWatch embedded-metric (EMF) lines.
 */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}
