/**
 * Which admin API failures are tried again, and for how long: transport errors and 5xx answers
 * within the deadline; discovery failures only as the registration allows.
 */
import { AdminApiError, TransportError } from './admin-client';
import { message, Progress } from './context';
import { describeDiscoveryFailure, DiscoveryFailureKind } from './discovery-error';
import { log } from './log';
import { DEFAULTS, DeploymentResourceProperties, numberOr } from './properties';
import { backoffDelay, Deadline, RetryRule, withRetry } from './retry';

/**
 * Discovery that AWS refused (AssumeRole or Invoke denied): a grant or role made moments ago may
 * not be effective yet (IAM is eventually consistent), so these are retried for a while.
 */
const REFUSED_BY_AWS: DiscoveryFailureKind[] = ['assume-role-denied', 'invoke-denied'];

/** Which discovery failures are worth retrying, and until when. */
export interface DiscoveryRetry {
  readonly until: Deadline;
  readonly retries: (e: AdminApiError) => boolean;
}

/**
 * Lambda: discovery that AWS refused, for AuthRetrySeconds (a grant or role not effective yet).
 * HTTP: any discovery failure, for DiscoveryRetrySeconds (e.g. a tunnel not connected yet).
 */
export function discoveryRetry(props: DeploymentResourceProperties, deadline: Deadline): DiscoveryRetry | undefined {
  if (props.LambdaArn) {
    return {
      until: deadline.within(numberOr(props.AuthRetrySeconds, DEFAULTS.authRetrySeconds) * 1000),
      retries: (e) => REFUSED_BY_AWS.includes(describeDiscoveryFailure(e.apiMessage, e.restateCode).kind),
    };
  }
  if (props.DiscoveryRetrySeconds === undefined) return undefined;
  return { until: deadline.within(Number(props.DiscoveryRetrySeconds) * 1000), retries: () => true };
}

/**
 * Retries transport errors and 5xx answers within the deadline; 4xx answers are final, and so
 * are discovery failures (Restate has already retried discovery itself), except those that
 * `discovery` retries until it runs out.
 */
export async function withRetries<T>(progress: Progress, deadline: Deadline, call: () => Promise<T>, discovery?: DiscoveryRetry): Promise<T> {
  const rules: RetryRule[] = [];
  if (discovery) {
    rules.push({
      retries: (e) => e instanceof AdminApiError && e.isDiscoveryFailure && discovery.retries(e),
      // A short cap: the deploy goes on soon after the grant (or tunnel) is there; restate-server
      // itself already tries a few times within each attempt.
      delayMs: (n) => backoffDelay(n, 500, 2_000, 250),
      until: discovery.until,
      reserveMs: 0,
    });
  }
  rules.push({
    retries: (e) => e instanceof TransportError || (e instanceof AdminApiError && e.status >= 500 && e.status !== 501 && !e.isDiscoveryFailure),
    maxRetries: 4,
    delayMs: (n) => backoffDelay(n, 500),
    until: deadline,
  });
  const attempt = async () => {
    try {
      return await call();
    } catch (e) {
      progress.last =
        e instanceof AdminApiError && e.isDiscoveryFailure ? `HTTP ${e.status}: ${describeDiscoveryFailure(e.apiMessage, e.restateCode).summary}` : message(e);
      throw e;
    }
  };
  return withRetry(attempt, rules, (e, n) =>
    log(e instanceof AdminApiError && e.isDiscoveryFailure ? 'discovery failed; retrying' : 'retrying', { phase: progress.phase, attempt: n + 1, last: progress.last }),
  );
}
