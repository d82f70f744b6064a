import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'emulator-cli.js')

/**
 * Starts the built CLI. Resolves `reportedPid` with the pid the function prints as
 * `running in <pid>` on stderr, so a test can signal the CLI at that exact moment.
 */
export function runCli(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  const child: ChildProcess = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let found!: (pid: number) => void
  const reportedPid = new Promise<number>((resolve) => {
    found = resolve
  })
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
    const match = /running in (\d+)\n/.exec(stderr)
    if (match !== null) found(Number(match[1]))
  })
  child.stdout!.resume()
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, reportedPid, exited, stderr: () => stderr }
}
