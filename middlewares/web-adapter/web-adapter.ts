import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { readEnvironmentConfig, resolveRestoreBudgetMs } from '../../src/config.js'
import { errorName } from '../../src/describe.js'
import { SnapStartPhaseError } from '../../src/errors.js'
import {
  getInitializationType,
  runAfterRestore,
  runBeforeSnapshot,
  whenSettled,
} from '../../src/lifecycle.js'
import { log } from '../../src/log.js'
import { shared } from '../../src/state.js'
import type { PhaseName } from '../../src/types.js'

/** Options of the Lambda Web Adapter integrations. */
export interface WebAdapterOptions {
  /**
   * The path the adapter POSTs to before the snapshot. Default
   * `AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH`, read when the listener is built.
   */
  beforeSnapshotPath?: string
  /**
   * The path the adapter POSTs to after the restore. Default
   * `AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH`, read when the listener is built.
   */
  afterRestorePath?: string
}

/** The answer to one request: a phase call, or a request held up by a failed phase. */
interface Answer {
  status: number
  body: Record<string, unknown>
}

/**
 * What one request needs: `undefined` to pass it on now, a promise of `undefined` to pass
 * it on later (a phase was running), or a promise of the answer to send instead.
 */
type Decision = undefined | Promise<Answer | undefined>

const KNOWN_OPTIONS = new Set(['beforeSnapshotPath', 'afterRestorePath'])

/** The options `fastify.register` reads itself; they reach the plugin too. */
const FASTIFY_REGISTER_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

/** The content type of every answer the integrations send themselves. */
const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * Decides, for each request, whether it is one of the adapter's SnapStart calls. Built once
 * per integration; the paths are fixed then.
 *
 * A phase call is a `POST` whose path (without the query) is one of the two paths. Each
 * phase runs once, in order, and only when `AWS_LAMBDA_INITIALIZATION_TYPE` is
 * `snap-start`: any other call to these paths answers 409 and runs nothing, so a request
 * from outside cannot close the pools of a live environment. Other requests pass through,
 * after waiting for a phase that is running; after a failed phase they answer 503.
 */
function createDecider(options: WebAdapterOptions, caller: string) {
  const paths = pathsFrom(options, caller)
  const budgetEnv = restoreBudgetEnv()

  return function decide(method: string | undefined, url: string | undefined): Decision {
    const path = pathOf(url)
    const phase =
      path === paths.beforeSnapshot
        ? 'beforeSnapshot'
        : path === paths.afterRestore
          ? 'afterRestore'
          : undefined
    if (phase !== undefined && method === 'POST') return runPhase(phase, budgetEnv)

    const state = shared()
    if (state.running !== undefined) return whenSettled().then(() => decide(method, url))
    if (state.state === 'failed') return Promise.resolve(failedAnswer())
    return undefined
  }
}

function pathsFrom(options: WebAdapterOptions, caller: string) {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${caller}: options must be an object such as { afterRestorePath }`)
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new TypeError(
        `${caller}: unknown option "${key}"; known options: beforeSnapshotPath, afterRestorePath`,
      )
    }
  }
  const env = process.env
  const beforeSnapshot =
    options.beforeSnapshotPath ?? env.AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH ?? undefined
  const afterRestore =
    options.afterRestorePath ?? env.AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH ?? undefined
  for (const [name, value] of [
    ['beforeSnapshotPath', beforeSnapshot],
    ['afterRestorePath', afterRestore],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || !value.startsWith('/'))) {
      throw new TypeError(`${caller}: "${name}" must be a path starting with "/"`)
    }
  }
  if (beforeSnapshot !== undefined && beforeSnapshot === afterRestore) {
    throw new TypeError(`${caller}: the before-snapshot and after-restore paths must differ`)
  }
  return { beforeSnapshot, afterRestore }
}

/**
 * `SNAPSTART_RESTORE_BUDGET_MS`, read and validated when an integration is built, so that a
 * malformed value fails at startup rather than after the restore. Throws
 * `InvalidConfigurationError`.
 */
function restoreBudgetEnv(): NodeJS.ProcessEnv {
  const env = { SNAPSTART_RESTORE_BUDGET_MS: process.env.SNAPSTART_RESTORE_BUDGET_MS }
  readEnvironmentConfig(env)
  return env
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return ''
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * Runs `phase` for the adapter's call. The after-restore budget is `snapStart({
 * restoreBudgetMs })` in code, else the `SNAPSTART_RESTORE_BUDGET_MS` of `budgetEnv`, else
 * 9 000 ms.
 */
async function runPhase(phase: PhaseName, budgetEnv: NodeJS.ProcessEnv): Promise<Answer> {
  const refusal = refuse(phase)
  if (refusal !== undefined) {
    return { status: 409, body: { errorType: 'SnapStartStateError', errorMessage: refusal } }
  }
  try {
    const report =
      phase === 'beforeSnapshot'
        ? await runBeforeSnapshot()
        : await runAfterRestore({ budgetMs: resolveRestoreBudgetMs(budgetEnv) })
    return { status: 200, body: { ...report } }
  } catch (error) {
    return { status: 500, body: safeError(error, phase) }
  }
}

/** Why `phase` may not run now, or undefined when it may. */
function refuse(phase: PhaseName): string | undefined {
  const state = shared()
  if (getInitializationType() !== 'snap-start') {
    return 'SnapStart phases run only when AWS_LAMBDA_INITIALIZATION_TYPE is snap-start'
  }
  if (state.running !== undefined) return `the ${state.running.phase} phase is running`
  if (state.ran.has(phase)) return `the ${phase} phase has already run`
  if (phase === 'afterRestore' && !state.ran.has('beforeSnapshot')) {
    return 'the afterRestore phase runs only after the beforeSnapshot phase'
  }
  return undefined
}

/**
 * The body of a failed phase: the error's class, the phase, the hook that failed and each
 * hook's name and status. No error message: a hook's message may carry anything, and this
 * body leaves the process; the full error goes to the log.
 */
function safeError(error: unknown, phase: PhaseName): Record<string, unknown> {
  const name = errorName(error, 'Error')
  log('error', `Web adapter ${phase} call failed: ${name}`, {
    type: 'snapstart.webAdapter',
    phase,
    errorType: name,
  })
  if (!(error instanceof SnapStartPhaseError)) return { errorType: name, phase }
  return {
    errorType: name,
    phase,
    hook: error.hook,
    status: error.report.status,
    hooks: error.report.hooks.map((hook) => ({ name: hook.name, status: hook.status })),
  }
}

function failedAnswer(): Answer {
  const error = shared().lastError
  return {
    status: 503,
    body: { errorType: error?.name ?? 'SnapStartPhaseError', phase: error?.phase },
  }
}

function send(res: ServerResponse, answer: Answer): void {
  const body = JSON.stringify(answer.body)
  res.writeHead(answer.status, {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

/**
 * Wraps a `node:http` request listener for an app behind the Lambda Web Adapter: the
 * adapter's SnapStart calls (`POST` to `AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH` and
 * `AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH`) run the before-snapshot and after-restore phases
 * and answer 200 with the phase report as JSON, or 500 with `{ errorType, phase, hook,
 * status, hooks }` when the phase failed (no error message). Every other request goes to
 * `listener` untouched, once no phase is running.
 *
 * ```js
 * http.createServer(snapStartRequestListener(app)).listen(8080)
 * ```
 */
export function snapStartRequestListener(
  listener: RequestListener,
  options: WebAdapterOptions = {},
): RequestListener {
  if (typeof listener !== 'function') {
    throw new TypeError('snapStartRequestListener: the listener must be a function (req, res)')
  }
  const decide = createDecider(options, 'snapStartRequestListener')
  return function snapStartListener(req: IncomingMessage, res: ServerResponse) {
    const decision = decide(req.method, req.url)
    if (decision === undefined) return listener(req, res)
    decision.then(
      (answer) => (answer === undefined ? listener(req, res) : send(res, answer)),
      (error: unknown) => send(res, { status: 500, body: safeError(error, 'afterRestore') }),
    )
  }
}

/** An Express-style `next`. */
type Next = (error?: unknown) => void

/**
 * Express middleware (tested with Express 5; any `(req, res, next)` framework on `node:http`)
 * doing what `snapStartRequestListener` does. Mount it first, before body parsers and
 * authentication, so nothing answers the adapter's calls before it:
 * `app.use(snapStartExpress())`. The paths are matched against `req.originalUrl`, the whole
 * path, also when the middleware is mounted under a prefix.
 */
export function snapStartExpress(options: WebAdapterOptions = {}) {
  const decide = createDecider(options, 'snapStartExpress')
  return function snapStartExpressMiddleware(
    req: IncomingMessage & { originalUrl?: string },
    res: ServerResponse,
    next: Next,
  ): void {
    const decision = decide(req.method, req.originalUrl ?? req.url)
    if (decision === undefined) {
      next()
      return
    }
    decision.then((answer) => (answer === undefined ? next() : send(res, answer)), next)
  }
}

/** The part of a Fastify instance the plugin uses. */
export interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown
}

/** The part of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  raw: { method?: string; url?: string }
}

/** The part of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike
  header(name: string, value: string): FastifyReplyLike
  send(body: string): FastifyReplyLike
}

/**
 * A Fastify plugin (tested with Fastify 5) doing what `snapStartRequestListener` does, from an
 * `onRequest` hook, so the adapter's calls are answered before Fastify parses their body.
 *
 * It carries Fastify's `skip-override` marker, so its hook lands in the context it is
 * registered in. Register it on the root instance (directly, or through a plugin that is
 * itself not encapsulated), first: it then covers every route of every context, and the
 * adapter's calls, which match no route, through the root's not-found handler. Fastify
 * runs `onRequest` hooks in the order they were added, so a hook added before it (an
 * authentication check, say) sees the adapter's calls first.
 *
 * ```js
 * await app.register(snapStartFastify, { afterRestorePath: '/hooks/after' })
 * ```
 *
 * @param fastify - the instance Fastify passes to the plugin.
 * @param options - the paths; Fastify's own register options (`prefix`, `logLevel`,
 *   `logSerializers`) are ignored, any other key is an error.
 * @throws TypeError when registered inside an encapsulated context (where its hook would
 *   miss the adapter's calls and the other contexts' routes), or for a bad option.
 */
export async function snapStartFastify(
  fastify: FastifyLike,
  options: WebAdapterOptions = {},
): Promise<void> {
  if (isEncapsulated(fastify)) {
    throw new TypeError(
      'snapStartFastify: register it on the root instance (or through a plugin that is not ' +
        "encapsulated): inside an encapsulated context its hook would miss the adapter's " +
        "calls and the other contexts' routes",
    )
  }
  const decide = createDecider(pluginOptions(options), 'snapStartFastify')

  fastify.addHook('onRequest', async function snapStartOnRequest(request, reply) {
    const decision = decide(request.raw.method, request.raw.url)
    if (decision === undefined) return undefined
    const answer = await decision
    if (answer === undefined) return undefined
    reply.code(answer.status).header('content-type', JSON_TYPE).send(JSON.stringify(answer.body))
    return reply
  })
}

/**
 * Whether `fastify` is an encapsulated context rather than the root instance. Fastify
 * builds each encapsulated context with the context it is registered in as its prototype,
 * while the root instance is a plain object.
 */
function isEncapsulated(fastify: FastifyLike): boolean {
  const parent: unknown = Object.getPrototypeOf(fastify)
  if (parent === null || typeof parent !== 'object') return false
  return 'addHook' in parent && 'register' in parent
}

/** Drops the options `fastify.register` reads itself, keeping ours and any unknown key. */
function pluginOptions(options: WebAdapterOptions): WebAdapterOptions {
  if (typeof options !== 'object' || options === null) return options
  return Object.fromEntries(
    Object.entries(options).filter(([key]) => !FASTIFY_REGISTER_OPTIONS.has(key)),
  )
}

Object.assign(snapStartFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'middy-snapstart',
})
