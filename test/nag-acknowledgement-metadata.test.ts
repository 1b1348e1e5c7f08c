import * as cdk from 'aws-cdk-lib';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../src/nag-acknowledgement';
import { asVersion } from './support/as-version';

// What acknowledgeFindings() records: Validations acknowledgements (aws-cdk-lib >= 2.257, cdk-nag
// 3.x) and, below 2.257, cdk-nag 2.x's cdk_nag metadata on each CfnResource in the scope.

const KEY = 'aws:cdk:acknowledged-rules';
/** Tests of what Validations records need an aws-cdk-lib that has it (2.257 on; not the minimum, 2.168). */
const testWithValidations = typeof (cdk as unknown as { Validations?: { of?: unknown } }).Validations?.of === 'function' ? test : test.skip;


function scene() {
  const stack = new Stack(new App(), 'Stack');
  const scope = new Construct(stack, 'Scope');
  const a = new CfnResource(scope, 'A', { type: 'AWS::SQS::Queue' });
  const b = new CfnResource(new Construct(scope, 'Nested'), 'B', { type: 'AWS::SNS::Topic' });
  return { stack, scope, a, b };
}

function acknowledged(scope: Construct): Array<Record<string, string>> {
  return scope.node.metadata.filter((m) => m.type === KEY).map((m) => m.data);
}

describe('from aws-cdk-lib 2.257: Validations acknowledgements only', () => {
  testWithValidations('a plain rule id is acknowledged through Validations, a finding with :: recorded under its full id, each with its reason', () => {
    const { scope, a, b } = scene();
    asVersion('2.257.0', () =>
      acknowledgeFindings(scope, [
        { id: 'AwsSolutions-L1', reason: 'pinned runtime' },
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'wildcard needed' },
      ]),
    );
    const records = acknowledged(scope);
    expect(Object.assign({}, ...records)).toEqual(
      expect.objectContaining({ 'AwsSolutions-IAM5[Resource::*]': 'wildcard needed' }),
    );
    expect(JSON.stringify(records)).toContain('pinned runtime');
    expect(a.getMetadata('cdk_nag')).toBeUndefined();
    expect(b.getMetadata('cdk_nag')).toBeUndefined();
  });

  testWithValidations('a finding with :: acknowledged twice is recorded once', () => {
    const { scope } = scene();
    asVersion('2.300.1', () => {
      acknowledgeFindings(scope, [{ id: 'X-1[Resource::a]', reason: 'first' }]);
      acknowledgeFindings(scope, [{ id: 'X-1[Resource::a]', reason: 'second' }]);
      acknowledgeFindings(scope, [{ id: 'X-1[Resource::b]', reason: 'other' }]);
    });
    expect(acknowledged(scope)).toEqual([{ 'X-1[Resource::a]': 'first' }, { 'X-1[Resource::b]': 'other' }]);
  });

  test.each([['3.0.0'], ['2.1000.0'], [undefined], [257]])('aws-cdk-lib version %j: no cdk_nag metadata', (version) => {
    const { scope, a } = scene();
    asVersion(version, () => acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }]));
    expect(a.getMetadata('cdk_nag')).toBeUndefined();
  });
});

describe('below aws-cdk-lib 2.257: cdk_nag metadata on every CfnResource in the scope', () => {
  test('a plain rule as id and reason; a finding as id and applies_to; on nested resources too', () => {
    const { scope, a, b } = scene();
    asVersion('2.256.9', () =>
      acknowledgeFindings(scope, [
        { id: 'AwsSolutions-L1', reason: 'pinned runtime' },
        { id: 'AwsSolutions-IAM5[Resource::arn:aws:lambda:*:*:function:*:*]', reason: 'wildcard needed' },
      ]),
    );
    const expected = {
      rules_to_suppress: [
        { reason: 'pinned runtime', id: 'AwsSolutions-L1' },
        { reason: 'wildcard needed', id: 'AwsSolutions-IAM5', applies_to: ['Resource::arn:aws:lambda:*:*:function:*:*'] },
      ],
    };
    expect(a.getMetadata('cdk_nag')).toEqual(expected);
    expect(b.getMetadata('cdk_nag')).toEqual(expected);
  });

  test('suppressions already there are kept first, and the same suppression is not added twice', () => {
    const { scope, a } = scene();
    a.addMetadata('cdk_nag', { rules_to_suppress: [{ reason: 'mine', id: 'AwsSolutions-S1' }] });
    asVersion('2.168.0', () => {
      acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }]);
      acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }, { id: 'AwsSolutions-L1', reason: 'r' }]);
    });
    expect(a.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [{ reason: 'mine', id: 'AwsSolutions-S1' }, { reason: 'r', id: 'AwsSolutions-L1' }],
    });
  });

  test('an id with brackets but nothing before them is a plain rule id', () => {
    const { scope, a } = scene();
    asVersion('2.200.0', () => acknowledgeFindings(scope, [{ id: '[x]', reason: 'r' }]));
    expect(a.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [{ reason: 'r', id: '[x]' }] });
  });
});

describe('details of the records', () => {
  testWithValidations('a plain rule id goes through Validations.acknowledge, which qualifies it; a finding with :: is recorded as written', () => {
    const { scope } = scene();
    asVersion('2.257.0', () =>
      acknowledgeFindings(scope, [
        { id: 'AwsSolutions-L1', reason: 'pinned runtime' },
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'wildcard needed' },
      ]),
    );
    const keys = acknowledged(scope).flatMap((r) => Object.keys(r));
    expect(keys).not.toContain('AwsSolutions-L1');
    expect(keys.filter((k) => k.endsWith('::AwsSolutions-L1')).length).toBeGreaterThan(0);
    expect(keys).toContain('AwsSolutions-IAM5[Resource::*]');
  });

  testWithValidations('metadata of another type naming the same rule does not count as recorded', () => {
    const { scope } = scene();
    scope.node.addMetadata('something-else', { 'X-1[Resource::a]': 'not an acknowledgement' });
    asVersion('2.257.0', () => acknowledgeFindings(scope, [{ id: 'X-1[Resource::a]', reason: 'r' }]));
    expect(acknowledged(scope)).toEqual([{ 'X-1[Resource::a]': 'r' }]);
  });

  test('a duplicate within one call is added once', () => {
    const { scope, a } = scene();
    asVersion('2.168.0', () => acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }, { id: 'AwsSolutions-L1', reason: 'r' }]));
    expect(a.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [{ reason: 'r', id: 'AwsSolutions-L1' }] });
  });

  test.each([['[a]b[c]'], ['X[a]b']])('%j is not a finding of the form Rule[target]: a plain rule id', (id) => {
    const { scope, a } = scene();
    asVersion('2.168.0', () => acknowledgeFindings(scope, [{ id, reason: 'r' }]));
    expect(a.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [{ reason: 'r', id }] });
  });

  test.each([['12.100.0'], [{ toString: (): string => '2.100.0' }]])('aws-cdk-lib version %j is not an older 2.x: no cdk_nag metadata', (version) => {
    const { scope, a } = scene();
    asVersion(version, () => acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }]));
    expect(a.getMetadata('cdk_nag')).toBeUndefined();
  });

  test('no jsii type information on Stack: treated as current, no cdk_nag metadata', () => {
    const { scope, a } = scene();
    const symbol = Symbol.for('jsii.rtti');
    const holder = Stack as unknown as Record<symbol, unknown>;
    const rtti = holder[symbol];
    holder[symbol] = undefined;
    try {
      acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }]);
    } finally {
      holder[symbol] = rtti;
    }
    expect(a.getMetadata('cdk_nag')).toBeUndefined();
  });
});

describe('an aws-cdk-lib without Validations, or without Validations.acknowledge', () => {
  function withValidations<T>(value: unknown, build: () => T): T {
    const descriptor = Object.getOwnPropertyDescriptor(cdk, 'Validations');
    Object.defineProperty(cdk, 'Validations', { configurable: true, enumerable: true, get: () => value });
    try {
      return build();
    } finally {
      // Below aws-cdk-lib 2.257 there is no Validations to put back.
      if (descriptor) Object.defineProperty(cdk, 'Validations', descriptor);
      else delete (cdk as unknown as Record<string, unknown>).Validations;
    }
  }

  test('no Validations: nothing recorded, and no error', () => {
    const { scope } = scene();
    withValidations(undefined, () => asVersion('2.257.0', () => acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }])));
    expect(acknowledged(scope)).toEqual([]);
  });

  test('Validations without acknowledge: nothing recorded, and no error; below 2.257 the cdk_nag metadata still', () => {
    const { scope, a } = scene();
    const fake = { ACKNOWLEDGED_RULES_METADATA_KEY: KEY, of: () => ({}) };
    withValidations(fake, () => asVersion('2.168.0', () => acknowledgeFindings(scope, [{ id: 'AwsSolutions-L1', reason: 'r' }, { id: 'X[Resource::a]', reason: 'r' }])));
    expect(acknowledged(scope)).toEqual([]);
    expect(a.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [{ reason: 'r', id: 'AwsSolutions-L1' }, { reason: 'r', id: 'X', applies_to: ['Resource::a'] }] });
  });
});
