/**
 * What a failed discovery means, read from the admin API's error message. restate-server 1.7
 * reports every Lambda-path failure as HTTP 500 with META0003 (META0013 for an answer that is
 * not a Restate endpoint's), wrapping the AWS error in a debug dump of several kilobytes: this
 * keeps the part a person can act on.
 */
export type DiscoveryFailureKind =
  | 'assume-role-denied'
  | 'invoke-denied'
  | 'function-not-found'
  | 'handler-error'
  | 'not-restate'
  | 'other';

export interface DiscoveryFailure {
  readonly kind: DiscoveryFailureKind;
  /** The server's message without its debug dump. */
  readonly summary: string;
}

/** Restate error codes of a failed discovery: unreachable or failing endpoint, bad answer. */
export const DISCOVERY_FAILURE_CODES = ['META0003', 'META0013'];

const AWS_ERROR = /Error \{ code: "([^"]+)", message: "((?:[^"\\]|\\.)*)"/;
const DEBUG_DUMP = /\s\((?:DispatchFailure|ServiceError|ConstructionFailure|TimeoutError|ResponseError)\(/;
const HANDLER_ERROR = /function returned an error during execution: (\{.*\})\s*$/s;

export function describeDiscoveryFailure(message: string, restateCode?: string): DiscoveryFailure {
  const text = message.replace(/^(\[META\d{4}\]\s*)+/, '');
  const calling = /^(error when calling '[^']+'): /.exec(text)?.[1];
  const aws = AWS_ERROR.exec(text);
  if (aws) {
    const [, code, awsMessage] = aws;
    const summary = `${calling ? `${calling}: ` : ''}${code}: ${awsMessage.replace(/\\"/g, '"')}`;
    if (/sts:AssumeRole/.test(awsMessage)) return { kind: 'assume-role-denied', summary };
    if (/AccessDenied/.test(code) && /lambda:InvokeFunction/.test(awsMessage)) return { kind: 'invoke-denied', summary };
    return { kind: 'other', summary };
  }
  const handler = HANDLER_ERROR.exec(text);
  if (handler) {
    let detail = handler[1];
    try {
      const parsed = JSON.parse(handler[1]) as { errorType?: string; errorMessage?: string };
      detail = `${parsed.errorType ?? 'Error'}${parsed.errorMessage ? `: ${parsed.errorMessage}` : ''}`;
    } catch {
      // keep the raw text
    }
    return { kind: 'handler-error', summary: `${calling ? `${calling}: ` : ''}the function threw ${detail}` };
  }
  const summary = text.split(DEBUG_DUMP)[0].trim();
  if (/ResourceNotFoundException/.test(summary)) return { kind: 'function-not-found', summary: summary.replace(/(ResourceNotFoundException: [^:]+: \S+): \1$/, '$1') };
  if (restateCode === 'META0013') return { kind: 'not-restate', summary };
  return { kind: 'other', summary };
}
