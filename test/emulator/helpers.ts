import { readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, expect } from 'vitest'
import { type Emulator, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

/** The path of a fixture file. */
export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts)
}

/** Every line the function printed in the current test. */
export const logs: { line: string; stream: 'stdout' | 'stderr' }[] = []

const running: Emulator[] = []

/** Starts an emulator that the test's `afterEach` closes, with the function's logs captured. */
export async function start(options: EmulatorOptions): Promise<Emulator> {
  const emulator = await startEmulator({
    onLog: (line, stream) => logs.push({ line, stream }),
    ...options,
  })
  running.push(emulator)
  return emulator
}

/** Ids of this process's live child processes (Linux `/proc`). */
export function childPids(): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') children.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  return children
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()))
  logs.length = 0
  expect(childPids()).toEqual([])
})

/** One raw HTTP request to a Runtime API, for wrong-state calls. */
export function request(
  runtimeApi: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const [host, port] = runtimeApi.split(':')
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port: Number(port), method, path, headers, agent: false },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
