/**
 * Reaching the admin API: its key and the secret headers read from Secrets Manager, and the wait
 * until it is healthy.
 */
import { AdminApiError, AdminClient, TransportError } from './admin-client';
import { DeployError, message, Progress } from './context';
import { authFailure } from './failure-reasons';
import { log } from './log';
import { DEFAULTS, DeploymentResourceProperties, isTrue, numberOr } from './properties';
import { backoffDelay, Deadline, withRetry } from './retry';
import { forgetSecret, readSecret, readSecretEntry } from './secrets';

const LAST_PROBE_MS = 1_000;
/** Health probes: every ~0.25 s (jittered) for the first half minute, then every ~1 s (cap 2 s). */
const HEALTH_FAST_PROBE_CAP_MS = 500;
const HEALTH_FAST_PROBES_MS = 30_000;
const HEALTH_BACKOFF_CAP_MS = 2_000;

/** A client of the admin API, and whether its key came from the secrets cache. */
export interface Connection {
  readonly client: AdminClient;
  readonly cachedKey: boolean;
}

export async function adminClient(props: DeploymentResourceProperties, signal: AbortSignal | undefined): Promise<Connection> {
  let token: string | undefined;
  let cachedKey = false;
  if (props.AuthTokenSecretArn) {
    try {
      ({ value: token, cached: cachedKey } = await readSecretEntry(props.AuthTokenSecretArn, props.AuthTokenJsonField));
    } catch (e) {
      throw new DeployError(
        `${message(e)}. The admin API key is read from this secret at deploy time: check that it exists, holds the key` +
          `${props.AuthTokenJsonField ? ` in field '${props.AuthTokenJsonField}'` : ''}, and that the deployer's role may read it.`,
      );
    }
  }
  const client = new AdminClient({
    adminUrl: props.AdminUrl,
    token,
    insecure: isTrue(props.InsecureSkipTlsVerify),
    ca: props.AdminCaCertificate,
    signal,
  });
  return { client, cachedKey };
}

export async function readSecretHeaders(props: DeploymentResourceProperties): Promise<Record<string, string> | undefined> {
  const secretHeaders = props.SecretHeaders ?? [];
  if (secretHeaders.length === 0 && !props.AdditionalHeaders) return undefined;
  const headers: Record<string, string> = { ...props.AdditionalHeaders };
  for (const h of secretHeaders) {
    try {
      headers[h.Name] = await readSecret(h.SecretArn, h.JsonField);
    } catch (e) {
      throw new DeployError(`header '${h.Name}': ${message(e)}`);
    }
  }
  return headers;
}

/**
 * Waits until `/health` answers 200 and returns the client that got it. Probes are cheap (a
 * refused connection costs nothing): they come every ~0.25 s for the first half minute, so a
 * deploy goes on soon after the admin API is up, then back off to every ~2 s. A cached key the
 * admin API rejects is read again once (it may have been rotated).
 */
export async function waitForHealth(
  connection: Connection,
  reconnect: () => Promise<Connection>,
  props: DeploymentResourceProperties,
  deadline: Deadline,
  progress: Progress,
): Promise<AdminClient> {
  let { client, cachedKey } = connection;
  const timeoutMs = numberOr(props.HealthTimeoutSeconds, DEFAULTS.healthTimeoutSeconds) * 1000;
  const wait = deadline.within(timeoutMs);
  // When the deployer's own time is shorter than the bound, it is what ends the wait.
  const cutByDeadline = deadline.remainingMs() < timeoutMs;
  const url = `${client.adminUrl}/health`;
  progress.phase = `waiting for the admin API at ${url}`;
  const started = Date.now();
  const probe = async (attempt: number): Promise<AdminClient> => {
    try {
      const status = await client.healthStatus(wait.cap(5_000));
      if (status === 200) {
        log('admin API healthy', { url, attempts: attempt + 1, waitedMs: Date.now() - started });
        return client;
      }
      progress.last = `HTTP ${status}`;
    } catch (e) {
      // A cached key comes from the secret: it is read again once.
      if (e instanceof AdminApiError && cachedKey) {
        log('admin API rejected the cached key; reading it again', { url, status: e.status });
        forgetSecret(props.AuthTokenSecretArn!);
        ({ client, cachedKey } = await reconnect());
        throw new KeyReadAgain();
      }
      if (e instanceof AdminApiError) throw authFailure(e, props);
      progress.last = e instanceof TransportError ? e.cause : message(e);
    }
    throw new NotHealthyYet();
  };
  try {
    return await withRetry(
      probe,
      [
        {
          retries: (e) => e instanceof KeyReadAgain,
          // Stryker disable next-line ArrowFunction: equivalent, a delay of undefined is no delay too
          delayMs: () => 0,
        },
        {
          retries: (e) => e instanceof NotHealthyYet,
          // Stryker disable next-line ConditionalExpression,EqualityOperator: the slower probes show only after 30 s of waiting, which unit tests do not spend
          delayMs: (n) => backoffDelay(n, 250, Date.now() - started < HEALTH_FAST_PROBES_MS ? HEALTH_FAST_PROBE_CAP_MS : HEALTH_BACKOFF_CAP_MS),
          // Leave the last probe a second, so that its answer (not a timeout) is what gets reported.
          until: wait,
          reserveMs: LAST_PROBE_MS,
          // Stryker disable next-line BooleanLiteral: shows only as one probe more or fewer in the last ~100 ms of the wait (timing)
          fitLastDelay: true,
        },
      ],
      (e, attempt) => {
        if (e instanceof NotHealthyYet) log('admin API not healthy yet', { url, attempt: attempt + 1, last: progress.last });
      },
    );
  } catch (e) {
    if (!(e instanceof NotHealthyYet)) throw e;
  }
  const waited = Math.round((Date.now() - started) / 1000);
  // Every probe that was not healthy recorded its answer.
  const last = progress.last!;
  if (cutByDeadline) {
    throw new DeployError(
      `the deployer ran out of time after waiting ${waited} s for the admin API at ${url} (last: ${last}), before the health check bound of ${timeoutMs / 1000} s. ` +
        'Raise the ServiceDeployer timeout, and check that the environment is running and reachable from the deployer.',
    );
  }
  throw new DeployError(
    `the admin API at ${url} was not healthy within ${waited} s (last: ${last}). ` +
      'Check the admin URL, that the environment is running, and that the deployer can reach it (VPC, NAT, security groups).',
  );
}

/** A health probe that did not get 200: probed again while there is time. */
export class NotHealthyYet extends Error {}

/** The cached API key was rejected and has been read again: probed again at once. */
export class KeyReadAgain extends Error {}
