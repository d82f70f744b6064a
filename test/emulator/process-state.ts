import { readFileSync } from 'node:fs'

/**
 * Whether a process can still run code: `gone` when no process has the pid, `dead` for a
 * zombie or a process with SIGKILL pending (it dies as soon as it is scheduled), `alive`
 * otherwise. Reads Linux's `/proc`.
 */
export function processState(pid: number): 'gone' | 'dead' | 'alive' {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return 'gone'
  }
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? ''
  if (field('State') === 'Z' || field('State') === 'X') return 'dead'
  const pending = BigInt(`0x${field('SigPnd') || '0'}`) | BigInt(`0x${field('ShdPnd') || '0'}`)
  return (pending & 0x100n) !== 0n ? 'dead' : 'alive'
}
