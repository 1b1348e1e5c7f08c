import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ServiceConfigurationFields, ServiceConfigurationProperty } from './deployer/properties';

/**
 * Configuration of a Restate service, applied through the admin API (`PATCH /services/{name}`)
 * after every registration, since Restate resets it when a new revision of the service
 * registers. A value set here wins over the same option set in the service's code (SDK service
 * options), which Restate reads at discovery.
 */
export interface ServiceConfiguration {
  /**
   * How long Restate keeps the result of an idempotent request (`idempotency_retention`).
   *
   * @default - Restate's default (one day), or the SDK service option
   */
  readonly idempotencyRetention?: Duration;

  /**
   * How long Restate keeps the journal of completed invocations (`journal_retention`);
   * `Duration.seconds(0)` keeps none. At run time it is capped by the idempotency retention
   * (requests with an idempotency key) and the workflow completion retention (workflows).
   *
   * @default - Restate's default (one day), or the SDK service option
   */
  readonly journalRetention?: Duration;

  /**
   * How long Restate keeps a completed workflow's result (`workflow_completion_retention`).
   * Workflow services only.
   *
   * @default - Restate's default, or the SDK service option
   */
  readonly workflowCompletionRetention?: Duration;

  /**
   * How long an invocation may be inactive before Restate asks it to suspend
   * (`inactivity_timeout`).
   *
   * @default - Restate's default (one minute), or the SDK service option
   */
  readonly inactivityTimeout?: Duration;

  /**
   * How long Restate waits, after asking an inactive invocation to suspend, before it aborts it
   * (`abort_timeout`). This interrupts user code.
   *
   * @default - Restate's default (ten minutes), or the SDK service option
   */
  readonly abortTimeout?: Duration;
}

const FIELDS: Array<[keyof ServiceConfiguration, keyof ServiceConfigurationFields, boolean]> = [
  ['idempotencyRetention', 'IdempotencyRetentionSeconds', true],
  ['journalRetention', 'JournalRetentionSeconds', true],
  ['workflowCompletionRetention', 'WorkflowCompletionRetentionSeconds', true],
  ['inactivityTimeout', 'InactivityTimeoutSeconds', false],
  ['abortTimeout', 'AbortTimeoutSeconds', false],
];

/** A service name as Restate accepts it. */
const SERVICE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Checks the configuration at synth (whole seconds, retentions >= 0, timeouts > 0, valid service
 * names) and renders the registration's property; undefined when nothing is configured.
 * @internal
 */
export function renderServiceConfiguration(
  scope: IConstruct,
  defaults: ServiceConfiguration | undefined,
  perService: { [name: string]: ServiceConfiguration } | undefined,
): ServiceConfigurationProperty | undefined {
  const render = (config: ServiceConfiguration, where: string): ServiceConfigurationFields | undefined => {
    const out: { [key: string]: string } = {};
    for (const [prop, field, mayBeZero] of FIELDS) {
      const value = config[prop];
      if (value === undefined) continue;
      if (Token.isUnresolved(value.toSeconds({ integral: false }))) {
        throw new Error(`${where}.${prop} is a token: service configuration is checked at synth, so give a literal Duration.`);
      }
      const seconds = value.toSeconds({ integral: false });
      // Stryker disable next-line ConditionalExpression: equivalent for seconds < 0, a Duration cannot be negative (Duration.seconds(-1) throws)
      if (!Number.isInteger(seconds) || seconds < 0 || (!mayBeZero && seconds === 0)) {
        throw new Error(
          `${where}.${prop} is ${value.toHumanString()}: it must be a whole number of seconds${mayBeZero ? ', 0 or more' : ', more than 0'} (e.g. Duration.hours(2)).`,
        );
      }
      out[field] = String(seconds);
    }
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, fractions were refused above, so integral: true neither throws nor changes the number
    const journal = config.journalRetention?.toSeconds({ integral: false });
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, fractions were refused above, so integral: true neither throws nor changes the number
    const idempotency = config.idempotencyRetention?.toSeconds({ integral: false });
    // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, a comparison with undefined is false: the guards only restate journal > idempotency
    if (journal !== undefined && idempotency !== undefined && journal > idempotency) {
      Annotations.of(scope).addWarningV2(
        'restate-cloud-cdk:journalRetentionCapped',
        `${where}: journalRetention (${config.journalRetention!.toHumanString()}) is longer than idempotencyRetention (${config.idempotencyRetention!.toHumanString()}), ` +
          'which caps it for requests with an idempotency key.',
      );
    }
    return Object.keys(out).length > 0 ? (out as ServiceConfigurationFields) : undefined;
  };
  const Default = defaults ? render(defaults, 'defaultServiceConfiguration') : undefined;
  const Services: { [name: string]: ServiceConfigurationFields } = {};
  for (const [name, config] of Object.entries(perService ?? {})) {
    if (!SERVICE_NAME.test(name)) {
      throw new Error(`serviceConfigurations: ${JSON.stringify(name)} is not a service name: use the name the service is bound with in code (e.g. 'Greeter').`);
    }
    Services[name] = render(config, `serviceConfigurations['${name}']`) ?? {};
  }
  if (!Default && Object.keys(Services).length === 0) return undefined;
  return { ...(Default ? { Default } : {}), ...(Object.keys(Services).length > 0 ? { Services } : {}) };
}
