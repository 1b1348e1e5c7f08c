import { Stack } from 'aws-cdk-lib';

/** Runs `build` as if aws-cdk-lib were `version` (the version jsii records for its classes). */
export function asVersion<T>(version: unknown, build: () => T): T {
  const rtti = (Stack as unknown as Record<symbol, { version: unknown }>)[Symbol.for('jsii.rtti')];
  const actual = rtti.version;
  rtti.version = version;
  try {
    return build();
  } finally {
    rtti.version = actual;
  }
}
