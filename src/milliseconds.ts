/**
 * The longest delay Node's timers keep, in milliseconds: 2^31 − 1, about 24.8 days. A longer
 * one fires after 1 ms with a `TimeoutOverflowWarning`, so every millisecond option of this
 * package stays within it.
 */
export const MAX_TIMER_MS = 2_147_483_647

/** What `checkMilliseconds` says of a value it rejects, after the option's quoted name. */
export const NOT_MILLISECONDS = `must be a number of milliseconds from 1 to ${MAX_TIMER_MS}`

/** Whether `value` is a millisecond option `checkMilliseconds` accepts. */
export function isMilliseconds(value: unknown): value is number {
  return typeof value === 'number' && value >= 1 && value <= MAX_TIMER_MS
}

/**
 * Checks a millisecond option at factory time: a finite number from 1 to `MAX_TIMER_MS`.
 * Returns it unchanged, or throws a `TypeError` that starts `<where>: "<option>"` and names
 * the range, never the value given.
 *
 * @param where - the function or option path the message starts with (`poolReset`).
 * @param option - the option's name (`drainTimeoutMs`).
 */
export function checkMilliseconds(value: unknown, where: string, option: string): number {
  if (isMilliseconds(value)) return value
  throw new TypeError(`${where}: "${option}" ${NOT_MILLISECONDS}`)
}
