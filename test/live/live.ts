/**
 * `npm run test:live`: the opt-in live suite against a real AWS account and Restate Cloud
 * environment (see test/live/README.md).
 *
 * Without AWS credentials or RESTATE_ENV_ID it prints one `skipped: ...` line and exits 0.
 * That decision reads only environment variables and the local AWS config files: no network.
 */
import { preflight, SECRET_NAME_PREFIX } from './config';
import { stopRunningCdk } from './example-app';
import { Report } from './report';
import { Interruption, runLiveSuite } from './suite';

async function main(): Promise<number> {
  const decision = preflight();
  if (decision.kind === 'skip') {
    console.log(decision.reason);
    return 0;
  }
  if (decision.kind === 'invalid') {
    for (const problem of decision.problems) console.log(`FAIL configuration: ${problem}`);
    console.log('live: FAIL (configuration incomplete; nothing was created)');
    return 1;
  }

  const config = decision.config;
  const report = new Report();
  const interruption: Interruption = { interrupted: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruption.interrupted) {
      const secret = config.apiKey ? `, the secret ${SECRET_NAME_PREFIX}${config.runId}` : '';
      console.log(
        `---- ${signal} again: leaving without cleanup. Remove by hand the stack ${config.stackName}${secret}` +
          ` and the Restate deployments whose metadata restate-cloud-cdk.stack is ${config.stackName}` +
          ' (test/live/README.md, "Cleaning up after an interrupted run").',
      );
      process.exit(130);
    }
    interruption.interrupted = true;
    console.log(`---- ${signal}: stopping, then cleaning up (send it again to leave at once)`);
    stopRunningCdk(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await runLiveSuite(config, report, interruption);
  console.log(report.summary());
  return report.failures > 0 || interruption.interrupted ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`live: FAIL (${e instanceof Error ? e.stack ?? e.message : String(e)})`);
    process.exit(1);
  },
);
