import { DeploymentResourceProperties } from '../../../src/deployer/properties';
import { adminTarget, TRUSTED_TARGETS_ENV } from '../../../src/deployer/trust';

/**
 * The deployer (in-process here) accepts only the admin URLs, API key secrets and secret headers
 * its environment names, as ServiceDeployer writes them at synth. These helpers play that part.
 */

/** Trusts exactly what `properties` pair, as if the app had been synthesized with them. */
export function trustProperties(properties: Record<string, unknown>): void {
  const p = properties as unknown as DeploymentResourceProperties;
  process.env[TRUSTED_TARGETS_ENV] = JSON.stringify({
    admin: [adminTarget(p)],
    headers: (p.SecretHeaders ?? []).map((h) => [p.Uri ?? '', h.SecretArn, h.JsonField ?? '']),
  });
}

/** Takes the deployer's trust from a synthesized template, as a deploy would. */
export function trustDeployerOf(template: { Resources: Record<string, { Type: string; Properties?: any }> }): void {
  const values = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => r.Properties?.Environment?.Variables?.[TRUSTED_TARGETS_ENV])
    .filter((v) => v !== undefined);
  if (values.length !== 1 || typeof values[0] !== 'string') {
    throw new Error(`expected one deployer function with a literal ${TRUSTED_TARGETS_ENV}, found ${JSON.stringify(values)}`);
  }
  process.env[TRUSTED_TARGETS_ENV] = values[0];
}
