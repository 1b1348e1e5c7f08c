import * as cdk from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The first aws-cdk-lib release cdk-nag 3.x supports (its peer dependency); on older releases
 * users run cdk-nag 2.x, which reads only its own `cdk_nag` template metadata.
 */
const CDK_NAG_3_MIN_MINOR = 257;

/** What is used of `Validations`, which aws-cdk-lib has from 2.252 (`acknowledge()` included). */
interface ValidationsApi {
  readonly ACKNOWLEDGED_RULES_METADATA_KEY: string;
  of(scope: IConstruct): { acknowledge?(...rules: NagAcknowledgement[]): void };
}

/** A cdk-nag rule (`AwsSolutions-L1`) or one finding of it (`AwsSolutions-IAM5[Resource::...]`). */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * Acknowledges cdk-nag findings on `scope` and everything under it, in the form the user's
 * cdk-nag reads, without a dependency on cdk-nag:
 *
 * - `Validations` acknowledgements (aws-cdk-lib >= 2.252), which cdk-nag 3.x reads; findings
 *   (ids with `::`, which `Validations.acknowledge()` rejects) are written as its metadata directly;
 * - below aws-cdk-lib 2.257, where cdk-nag 3.x does not install, also cdk-nag 2.x's `cdk_nag`
 *   metadata on each CloudFormation resource under `scope` that exists when this is called: call
 *   it after the resources concerned are created.
 */
export function acknowledgeFindings(scope: IConstruct, rules: NagAcknowledgement[]): void {
  // Looked up, not imported: the library also runs on aws-cdk-lib releases without it.
  const validations = (cdk as unknown as { Validations?: ValidationsApi }).Validations;
  const acknowledgements = validations?.of(scope);
  // Stryker disable next-line OptionalChaining: equivalent, acknowledgements is undefined only when validations is, which short-circuits first
  if (validations && acknowledgements?.acknowledge) {
    for (const rule of rules) {
      if (rule.id.includes('::')) {
        addAcknowledgedRule(scope, validations.ACKNOWLEDGED_RULES_METADATA_KEY, rule);
      } else {
        acknowledgements.acknowledge({ id: rule.id, reason: rule.reason });
      }
    }
  }
  if (cdkNag3Unavailable()) {
    for (const resource of scope.node.findAll().filter(CfnResource.isCfnResource)) {
      addCdkNag2Suppressions(resource, rules);
    }
  }
}

function addAcknowledgedRule(scope: IConstruct, key: string, rule: NagAcknowledgement): void {
  if (scope.node.metadata.some((m) => m.type === key && rule.id in (m.data ?? {}))) return;
  scope.node.addMetadata(key, { [rule.id]: rule.reason });
}

/** True on aws-cdk-lib releases below the first that cdk-nag 3.x supports. */
function cdkNag3Unavailable(): boolean {
  const version: unknown = (Stack as unknown as { [key: symbol]: { version?: unknown } | undefined })[Symbol.for('jsii.rtti')]?.version;
  const match = typeof version === 'string' ? /^2\.(\d+)\./.exec(version) : null;
  return match !== null && Number(match[1]) < CDK_NAG_3_MIN_MINOR;
}

/**
 * cdk-nag 2.x suppressions: `{ rules_to_suppress: [{ id, reason, applies_to? }] }` in the
 * resource's template metadata; a finding `RULE[FINDING]` becomes `id: RULE, applies_to: [FINDING]`.
 * Merged with suppressions already there (cdk-nag's `NagSuppressions` merges the same way).
 */
function addCdkNag2Suppressions(resource: CfnResource, rules: NagAcknowledgement[]): void {
  const existing: unknown[] = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  const serialized = new Set(existing.map((r) => JSON.stringify(r)));
  const merged = [...existing];
  for (const rule of rules) {
    const finding = /^([^[]+)\[(.+)\]$/.exec(rule.id);
    const suppression = finding ? { reason: rule.reason, id: finding[1], applies_to: [finding[2]] } : { reason: rule.reason, id: rule.id };
    const key = JSON.stringify(suppression);
    if (serialized.has(key)) continue;
    serialized.add(key);
    merged.push(suppression);
  }
  resource.addMetadata('cdk_nag', { rules_to_suppress: merged });
}
