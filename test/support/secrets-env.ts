import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Variables through which an SDK client could find credentials or a remote address. */
const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_SSM',
]

/**
 * Clears every AWS credential variable, turns the EC2 metadata lookup off and points the
 * shared config files at a path that does not exist, so no client can reach anything but
 * the local endpoints a test gives it. Returns the function that puts the environment back.
 */
export function isolateAwsEnv(): () => void {
  const saved = new Map<string, string | undefined>()
  const set = (key: string, value: string | undefined) => {
    if (!saved.has(key)) saved.set(key, process.env[key])
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  for (const key of CREDENTIAL_VARIABLES) set(key, undefined)
  const nowhere = join(tmpdir(), 'middy-snapstart-no-aws-config')
  set('AWS_EC2_METADATA_DISABLED', 'true')
  set('AWS_SHARED_CREDENTIALS_FILE', join(nowhere, 'credentials'))
  set('AWS_CONFIG_FILE', join(nowhere, 'config'))
  return () => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

/** Static credentials for clients that should not look any up. */
export const STATIC_CREDENTIALS = {
  accessKeyId: 'AKIDLOCALTEST',
  secretAccessKey: 'local-secret-access-key',
}
