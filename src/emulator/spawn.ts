import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { EmulatorError } from './errors.js'

const PACKAGE_NAME = 'middy-snapstart'
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts'])

/**
 * This package's root directory, found by walking up from this module's own file, so it
 * works from `dist/` (the built package) and from `src/emulator/` (tests on the source).
 */
export function packageRoot(): string {
  const here = fileURLToPath(import.meta.url)
  let dir = dirname(here)
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }
      if (name === PACKAGE_NAME) return dir
    }
    const parent = dirname(dir)
    if (parent === dir) {
      throw new EmulatorError({
        errorType: 'Runtime.InvalidEntrypoint',
        errorMessage: `Cannot find the ${PACKAGE_NAME} package above ${dirname(here)}`,
      })
    }
    dir = parent
  }
}

/** The built `snapstart-runtime` entry point. */
export function runtimeBinPath(root: string = packageRoot()): string {
  const bin = join(root, 'dist', 'runtime-bin.js')
  if (!existsSync(bin)) {
    throw new EmulatorError({
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: `${bin} does not exist; build the package first (npm run build)`,
    })
  }
  return bin
}

/** Node arguments that let the runtime import the handler: a TS loader for TypeScript. */
export function loaderArgs(handlerFile: string, root: string = packageRoot()): string[] {
  const extension = handlerFile.slice(handlerFile.lastIndexOf('.'))
  if (!TS_EXTENSIONS.has(extension)) return []
  const tsx = createRequire(join(root, 'package.json')).resolve('tsx')
  return ['--import', pathToFileURL(tsx).href]
}

/** What `lambdaEnvironment` needs. */
export interface EnvironmentSpec {
  runtimeApi: string
  handler: string
  taskRoot: string
  snapStart: boolean
  functionName: string
  functionVersion: string
  memoryMb: number
  region: string
  userEnv: Record<string, string>
}

/**
 * The environment Lambda gives a container-image function, with this machine's `PATH`.
 * Snap-start mode leaves out `AWS_LAMBDA_LOG_GROUP_NAME` and `AWS_LAMBDA_LOG_STREAM_NAME`,
 * as Lambda does. `SNAPSTART_EMULATOR=1` turns on the runtime's report channel. The user's
 * variables are applied last. Nothing else from this process's environment is passed on.
 */
export function lambdaEnvironment(spec: EnvironmentSpec): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    NODE_PATH: [process.env.NODE_PATH, spec.taskRoot].filter(Boolean).join(delimiter),
    LAMBDA_TASK_ROOT: spec.taskRoot,
    _HANDLER: spec.handler,
    AWS_LAMBDA_RUNTIME_API: spec.runtimeApi,
    AWS_LAMBDA_INITIALIZATION_TYPE: spec.snapStart ? 'snap-start' : 'on-demand',
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: spec.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    SNAPSTART_EMULATOR: '1',
  }
  if (process.env.TMPDIR !== undefined) env.TMPDIR = process.env.TMPDIR
  if (!spec.snapStart) {
    env.AWS_LAMBDA_LOG_GROUP_NAME = `/aws/lambda/${spec.functionName}`
    env.AWS_LAMBDA_LOG_STREAM_NAME = logStreamName(spec.functionVersion)
  }
  return { ...env, ...spec.userEnv }
}

function logStreamName(version: string): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
  const suffix = Math.random().toString(16).slice(2, 14).padEnd(12, '0')
  return `${day}/[${version}]${suffix}`
}
