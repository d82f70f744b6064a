import { delimiter } from 'node:path'

/** What `lambdaEnvironment` needs. */
export interface EnvironmentSpec {
  /**
   * `host:port` of the Runtime API the process talks to, when it has one (the emulator).
   * It also sets `SNAPSTART_EMULATOR=1`, which turns on the runtime's report channel.
   * Unset for the snapshot processes, which take their events from a file.
   */
  runtimeApi?: string
  /** `_HANDLER`: `module.export`. */
  handler: string
  /** `LAMBDA_TASK_ROOT`, also appended to `NODE_PATH`. */
  taskRoot: string
  /** `AWS_LAMBDA_INITIALIZATION_TYPE`: `snap-start` when true, else `on-demand`. */
  snapStart: boolean
  functionName: string
  functionVersion: string
  /** `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB. */
  memoryMb: number
  /** `AWS_REGION` and `AWS_DEFAULT_REGION`. */
  region: string
  /** The caller's own variables, applied last, over everything else. */
  userEnv: Record<string, string>
}

/**
 * Checks a caller's `env` option: an object whose values are all strings. Throws a
 * `TypeError` naming `where` and the first key whose value is not a string (never the value).
 */
export function checkEnvironment(env: unknown, where: string): Record<string, string> {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new TypeError(`${where}: "env" must be an object whose values are strings`)
  }
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== 'string') {
      throw new TypeError(`${where}: "env.${key}" must be a string, got ${typeof value}`)
    }
  }
  return env as Record<string, string>
}

/**
 * The environment Lambda gives a container-image function, with this machine's `PATH` and
 * `TMPDIR`. Snap-start mode leaves out `AWS_LAMBDA_LOG_GROUP_NAME` and
 * `AWS_LAMBDA_LOG_STREAM_NAME`, as Lambda does. The caller's variables are applied last.
 * Nothing else from this process's environment is passed on: no credentials, no tokens.
 */
export function lambdaEnvironment(spec: EnvironmentSpec): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    NODE_PATH: [process.env.NODE_PATH, spec.taskRoot].filter(Boolean).join(delimiter),
    LAMBDA_TASK_ROOT: spec.taskRoot,
    _HANDLER: spec.handler,
    AWS_LAMBDA_INITIALIZATION_TYPE: spec.snapStart ? 'snap-start' : 'on-demand',
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: spec.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
  }
  if (spec.runtimeApi !== undefined) {
    env.AWS_LAMBDA_RUNTIME_API = spec.runtimeApi
    env.SNAPSTART_EMULATOR = '1'
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
