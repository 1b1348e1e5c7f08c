/**
 * What every step of the deployer shares: the request being answered, its progress (named in
 * the reason when time runs out), the error whose message is the reason, and common bounds.
 */
import { DeploymentResourceProperties, LOGICAL_ID_METADATA_KEY, OWNER_METADATA_KEY, ResourceIdentity, STACK_ID_METADATA_KEY } from './properties';

/** One call to the admin API, other than registration, answers within this. */
export const CALL_TIMEOUT_MS = 10_000;
/** Deletes are best effort and must never hold up stack deletion or rollback. */
export const DELETE_BUDGET_MS = 20_000;

/** A failure whose message is the whole reason CloudFormation shows. */
export class DeployError extends Error {}

/**
 * What the handler is doing now, and the last failed answer in that phase: named in the reason
 * when time runs out. A new phase starts without one (an earlier phase's failure is not news).
 */
export class Progress {
  /** The last failed answer in the current phase. */
  last?: string;

  constructor(private current: string) {}

  get phase(): string {
    return this.current;
  }

  set phase(phase: string) {
    this.current = phase;
    this.last = undefined;
  }
}

/** The request being answered: which resource, its previous properties, and when to hang up. */
export interface RequestContext {
  readonly resource: ResourceIdentity;
  /** Update only: the properties the resource had before, and its physical id. */
  readonly oldProps?: DeploymentResourceProperties;
  readonly priorId?: string;
  /** Aborted when the deployer stops waiting: requests in flight hang up. */
  readonly signal?: AbortSignal;
}

export function describeEndpoint(props: DeploymentResourceProperties): string {
  return props.LambdaArn ? `Lambda ${props.LambdaArn}` : `endpoint ${props.Uri ?? '(no Uri)'}`;
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function describeOwner(meta: Record<string, string>): string {
  const logicalId = meta[LOGICAL_ID_METADATA_KEY];
  const stackId = meta[STACK_ID_METADATA_KEY];
  if (!logicalId || !stackId) return meta[OWNER_METADATA_KEY] ? `'${meta[OWNER_METADATA_KEY]}'` : 'a registration made outside this stack';
  // arn:aws:cloudformation:region:account:stack/NAME/uuid
  const stackName = stackId.split('/')[1] ?? stackId;
  return `${logicalId} of stack ${stackName}${meta[OWNER_METADATA_KEY] ? ` ('${meta[OWNER_METADATA_KEY]}')` : ''}`;
}
