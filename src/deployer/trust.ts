import * as crypto from 'crypto';
import { DeploymentResourceProperties, PropertyError } from './properties';

/**
 * Which secret may be sent where, fixed by the constructs at synth and handed to the deployer
 * in its own environment, so that an event cannot pair a secret with a URL of its choosing:
 * an API key goes only to the admin URL it was configured with (and with the TLS settings it
 * was configured with), a secret header only to its endpoint. Not part of the jsii API; no
 * AWS SDK here, since the constructs import it too.
 */
export const TRUSTED_TARGETS_ENV = 'RESTATE_TRUSTED_TARGETS';

/** `[adminUrl, apiKeySecretArn, jsonField, tls]`; '' where there is none. */
export type AdminTarget = [string, string, string, string];
/** `[endpointUri, secretArn, jsonField]`. */
export type HeaderTarget = [string, string, string];

export interface TrustedTargets {
  readonly admin: AdminTarget[];
  readonly headers: HeaderTarget[];
}

/** The TLS setting that goes with an admin URL: '', 'insecure', or 'ca:<sha256 of the PEM>'. */
export function tlsSetting(insecure: boolean, caPem: string | undefined): string {
  if (caPem !== undefined) return `ca:${crypto.createHash('sha256').update(caPem.trim()).digest('hex')}`;
  return insecure ? 'insecure' : '';
}

export function adminTarget(props: Pick<DeploymentResourceProperties, 'AdminUrl' | 'AuthTokenSecretArn' | 'AuthTokenJsonField' | 'InsecureSkipTlsVerify' | 'AdminCaCertificate'>): AdminTarget {
  return [
    normalizeUrl(props.AdminUrl),
    props.AuthTokenSecretArn ?? '',
    props.AuthTokenJsonField ?? '',
    tlsSetting(props.InsecureSkipTlsVerify === 'true', props.AdminCaCertificate),
  ];
}

/** URLs compare without trailing slashes and with scheme and host in lower case. */
export function normalizeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
  const base = m ? m[1].toLowerCase() + m[2] : url;
  return base.replace(/\/+$/, '');
}

/**
 * Refuses, before any secret is read or any request is made, an event whose admin URL, API key
 * secret, TLS setting or secret headers were not configured together for this deployer.
 */
export function checkTrusted(props: DeploymentResourceProperties, env: NodeJS.ProcessEnv = process.env): void {
  const raw = env[TRUSTED_TARGETS_ENV];
  let trusted: TrustedTargets;
  try {
    trusted = JSON.parse(raw ?? '') as TrustedTargets;
    const wellFormed = (list: unknown, width: number) =>
      Array.isArray(list) && list.every((t) => Array.isArray(t) && t.length === width && t.every((v) => typeof v === 'string'));
    // Stryker disable next-line OptionalChaining,StringLiteral: equivalent, whatever is thrown here is caught just below and refused alike
    if (!wellFormed(trusted?.admin, 4) || !wellFormed(trusted?.headers, 3)) throw new Error('malformed');
  } catch {
    throw new PropertyError(
      `the deployer has no valid ${TRUSTED_TARGETS_ENV} environment variable, so it sends no API key anywhere. ` +
        'It is set by ServiceDeployer: redeploy the deployer\'s stack.',
    );
  }
  const wanted = adminTarget(props);
  if (!trusted.admin.some((t) => sameTarget(t, wanted))) {
    const [url, secret, field, tls] = wanted;
    throw new PropertyError(
      `refused: this deployer was not configured to send ${secret ? `the API key in secret ${secret}${field ? ` (field '${field}')` : ''}` : 'requests without an API key'} ` +
        `to the admin API at ${url}${tls ? ` with TLS setting '${tls}'` : ''}. ` +
        'Each environment\'s admin URL, API key secret and TLS settings are fixed when the app is synthesized: register through ServiceDeployer, then deploy the deployer\'s stack too.',
    );
  }
  for (const h of props.SecretHeaders ?? []) {
    const header: HeaderTarget = [normalizeUrl(props.Uri ?? props.LambdaArn ?? ''), h.SecretArn, h.JsonField ?? ''];
    if (!trusted.headers.some((t) => sameTarget(t, header))) {
      throw new PropertyError(
        `refused: this deployer was not configured to send secret ${h.SecretArn}${h.JsonField ? ` (field '${h.JsonField}')` : ''} as header '${h.Name}' to ${header[0]}. ` +
          'Secret headers are fixed to their endpoint when the app is synthesized: register through ServiceDeployer, then deploy the deployer\'s stack too.',
      );
    }
  }
}

function sameTarget(a: readonly string[], b: readonly string[]): boolean {
  // Both have the width checkTrusted made sure of; the URL (first) is compared normalized.
  return a.every((v, i) => (i === 0 ? normalizeUrl(v) === b[i] : v === b[i]));
}
