export { BUILD_TIMEOUT_MS, buildSnapshot } from './build.js'
export {
  SnapshotAbortedError,
  SnapshotBuildError,
  SnapshotBuildTimeoutError,
  SnapshotBundleError,
  SnapshotError,
  SnapshotEsmOnlyError,
  SnapshotHttpError,
  SnapshotInitError,
  SnapshotLiveHandlesError,
  SnapshotMismatchError,
} from './errors.js'
export { removeSnapshot } from './remove.js'
export { MAX_ENVIRONMENTS, RESTORE_TIMEOUT_MS, restoreSnapshot } from './restore.js'
export type * from './types.js'
