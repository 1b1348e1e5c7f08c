import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * What test/integration/run.sh hands to the tests through the environment.
 *
 * - INTEG_TLS_CERT / INTEG_TLS_KEY: a throwaway certificate for 127.0.0.1 and localhost,
 *   issued by the throwaway CA INTEG_TLS_CA, which is also NODE_EXTRA_CA_CERTS, so https
 *   clients in this process (the handler's response PUT) trust it.
 * - INTEG_TMP_DIR: the run's temporary directory (removed by run.sh).
 */
export interface RunEnvironment {
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tmpDir: string;
}

export function runEnvironment(): RunEnvironment {
  const tlsCert = process.env.INTEG_TLS_CERT;
  const tlsKey = process.env.INTEG_TLS_KEY;
  if (!tlsCert || !tlsKey || !fs.existsSync(tlsCert) || !fs.existsSync(tlsKey)) {
    throw new Error('INTEG_TLS_CERT / INTEG_TLS_KEY are not set: run the integration tests with `npm run test:integration` (test/integration/run.sh).');
  }
  if (!process.env.NODE_EXTRA_CA_CERTS || process.env.NODE_EXTRA_CA_CERTS !== process.env.INTEG_TLS_CA) {
    throw new Error('NODE_EXTRA_CA_CERTS must point at INTEG_TLS_CA (set by test/integration/run.sh) so the handler trusts the CloudFormation stand-in.');
  }
  const tmpDir = process.env.INTEG_TMP_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'restate-integ-'));
  return { tlsCert, tlsKey, tmpDir };
}

/** A fresh directory under the run's temporary directory. */
export function freshDir(env: RunEnvironment, prefix: string): string {
  return fs.mkdtempSync(path.join(env.tmpDir, `${prefix}-`));
}
