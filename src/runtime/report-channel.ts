import type { PhaseReport } from '../types.js'

/**
 * The emulator's own endpoint, outside Lambda's Runtime API: `POST {REPORT_PATH}` on the
 * `AWS_LAMBDA_RUNTIME_API` host, with one `ChannelReport` as a JSON body, answered `202`.
 * The runtime uses it only when `SNAPSTART_EMULATOR=1` (the emulator sets it; Lambda does
 * not), so on Lambda nothing extra is sent.
 */
export const REPORT_PATH = '/snapstart-emulator/v1/report'

/** What the runtime sends on the report channel. */
export type ChannelReport =
  | {
      /** The handler module has loaded. */
      type: 'init'
      /** Milliseconds from the runtime process's start until the handler was loaded. */
      durationMs: number
    }
  | {
      /** A phase (before-snapshot or after-restore) has ended, successfully or not. */
      type: 'phase'
      report: PhaseReport
    }
