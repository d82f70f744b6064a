/**
 * Logs are one JSON object per line on stdout, in the shape of Lambda's JSON application
 * logs (`timestamp`, `level`, `message`, then fields). `SNAPSTART_LOG_LEVEL` (`debug`,
 * `info`, `warn`, `error` or `silent`; default `info`) filters them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 }

/** The active level, read from `SNAPSTART_LOG_LEVEL` at each call (cheap, and restore-safe). */
export function logLevel(): LogLevel {
  const raw = process.env.SNAPSTART_LOG_LEVEL?.toLowerCase()
  return raw !== undefined && raw in RANK ? (raw as LogLevel) : 'info'
}

/** Writes one JSON log line when `level` passes the active level. */
export function log(
  level: Exclude<LogLevel, 'silent'>,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  if (RANK[level] < RANK[logLevel()]) return
  const line = { timestamp: new Date().toISOString(), level: level.toUpperCase(), message }
  process.stdout.write(`${JSON.stringify({ ...line, ...fields })}\n`)
}
