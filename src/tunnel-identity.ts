import * as ecs from 'aws-cdk-lib/aws-ecs';
import { RestateCloudEnvironment } from './cloud-environment';
import { validatePublicKeys } from './environment';

/**
 * The request-signing public key a tunnel verifies requests with: `explicit`, or else the
 * environment's only key. Throws, naming the fix, when there is none or the choice is ambiguous.
 * @internal
 */
export function signingPublicKeyOf(what: string, environment: RestateCloudEnvironment, explicit?: string): string {
  if (explicit !== undefined) return validatePublicKeys([explicit])[0];
  const keys = environment.requestSigningPublicKeys ?? [];
  if (keys.length === 1) return keys[0];
  if (keys.length === 0) {
    throw new Error(
      `${what}: the environment '${environment.node.path}' has no request-signing public key, which the tunnel needs to accept only requests from that environment: ` +
        "pass requestSigningPublicKeys (the 'publickeyv1_...' key from the environment's security settings in Restate Cloud) to RestateCloudEnvironment, or signingPublicKey here.",
    );
  }
  // The tunnel takes one key; during a rotation, which one is current is the user's call.
  throw new Error(
    `${what}: the environment '${environment.node.path}' has ${keys.length} request-signing public keys, but a tunnel verifies requests with exactly one: ` +
      'pass signingPublicKey (the key the environment signs with now).',
  );
}

/**
 * The environment's API key as an ECS secret: ECS reads it from Secrets Manager when a task
 * starts (the task's execution role is granted read on exactly that secret), so the key never
 * appears in the task definition.
 * @internal
 */
export function apiKeySecretOf(environment: RestateCloudEnvironment): ecs.Secret {
  // A RestateCloudEnvironment always has one: its constructor requires apiKey.
  return ecs.Secret.fromSecretsManager(environment.authToken!, environment.authTokenJsonField);
}
