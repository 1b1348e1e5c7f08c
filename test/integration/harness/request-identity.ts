import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';

/** Bitcoin's base58 alphabet, the one Restate's `publickeyv1_` keys use (Rust crate bs58). */
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/**
 * An Ed25519 request-identity key pair, like a Restate Cloud environment's: the server signs
 * requests to services with the private key; services verify them with the public key.
 */
export interface SigningKeyPair {
  /** PKCS#8 PEM, what restate-server's `request-identity-private-key-pem-file` reads. */
  readonly privateKeyPem: string;
  /** `publickeyv1_` + base58 of the raw 32-byte public key, what the SDKs' `withIdentityV1` takes. */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // The SPKI DER of an Ed25519 key is a fixed 12-byte prefix followed by the raw 32 bytes.
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  if (raw.length !== 32) throw new Error(`unexpected Ed25519 public key length ${raw.length}`);
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: `publickeyv1_${base58(raw)}`,
    privateKey,
  };
}

/**
 * The headers of a request signed the way restate-server signs requests (request identity
 * v1): `x-restate-signature-scheme: v1` and an EdDSA JWT whose audience is the request path.
 * For direct requests to a service that check its verifier, without going through Restate.
 */
export function signedRequestHeaders(key: SigningKeyPair, path: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${encode({ typ: 'JWT', alg: 'EdDSA', kid: key.publicKey })}.${encode({ aud: path, nbf: nowSeconds - 5, iat: nowSeconds, exp: nowSeconds + 60 })}`;
  const signature = sign(null, Buffer.from(input), key.privateKey).toString('base64url');
  return { 'x-restate-signature-scheme': 'v1', 'x-restate-jwt-v1': `${input}.${signature}` };
}
