import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { log, logLevel } from '../../src/log.js'
import { captureLogs } from './helpers.js'

let logs: ReturnType<typeof captureLogs>
const saved = process.env.SNAPSTART_LOG_LEVEL

beforeEach(() => {
  logs = captureLogs()
})
afterEach(() => {
  logs.restore()
  if (saved === undefined) delete process.env.SNAPSTART_LOG_LEVEL
  else process.env.SNAPSTART_LOG_LEVEL = saved
})

describe('SNAPSTART_LOG_LEVEL', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'verbose'])(
    '%s is not a level: info applies, debug lines are dropped',
    (raw) => {
      process.env.SNAPSTART_LOG_LEVEL = raw

      log('debug', 'hidden')
      log('info', 'shown')

      expect(logLevel()).toBe('info')
      expect(logs.lines().map((line) => line.message)).toEqual(['shown'])
    },
  )

  it('reads a level in any case, with blanks around it', () => {
    process.env.SNAPSTART_LOG_LEVEL = ' Warn '

    log('info', 'hidden')
    log('warn', 'shown')

    expect(logLevel()).toBe('warn')
    expect(logs.lines().map((line) => line.message)).toEqual(['shown'])
  })
})

describe('log lines', () => {
  it('keeps timestamp, level and message first and unchanged by fields of those names', () => {
    delete process.env.SNAPSTART_LOG_LEVEL

    log('warn', 'the real message', {
      level: 'DEBUG',
      message: 'forged',
      timestamp: '1970-01-01T00:00:00.000Z',
      type: 'snapstart.test',
    })

    const [line] = logs.lines()
    expect(Object.keys(line!)).toEqual(['timestamp', 'level', 'message', 'type'])
    expect(line).toMatchObject({ level: 'WARN', message: 'the real message' })
    expect(line!.timestamp).not.toBe('1970-01-01T00:00:00.000Z')
    expect(Number.isNaN(Date.parse(line!.timestamp as string))).toBe(false)
  })
})
