import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { request } from './http';
import { log } from './log';
import { withRetry } from './retry';

export interface CfnResult {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
  readonly physicalResourceId: string;
  readonly data?: Record<string, string>;
}

/** CloudFormation rejects response bodies over 4096 bytes: the reason is cut to fit. */
const MAX_BODY_BYTES = 4096;

export function responseBody(event: CloudFormationCustomResourceEvent, result: CfnResult, logStream?: string): string {
  const build = (reason: string) =>
    JSON.stringify({
      Status: result.status,
      Reason: reason,
      PhysicalResourceId: result.physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
      Data: result.data ?? {},
    });
  let reason = result.reason ?? (logStream ? `See CloudWatch log stream ${logStream}` : 'OK');
  let body = build(reason);
  while (Buffer.byteLength(body) > MAX_BODY_BYTES && reason.length > 0) {
    const over = Buffer.byteLength(body) - MAX_BODY_BYTES;
    reason = reason.slice(0, Math.max(0, reason.length - over - 16)) + ' [truncated]';
    body = build(reason);
  }
  return body;
}

/** PUTs the response to the pre-signed ResponseURL, retrying transport errors and 5xx a few times. */
export async function sendResponse(
  event: CloudFormationCustomResourceEvent,
  result: CfnResult,
  logStream?: string,
): Promise<void> {
  const body = responseBody(event, result, logStream);
  const host = safeHost(event.ResponseURL);
  const put = async (attempt: number): Promise<void> => {
    const res = await request({
      method: 'PUT',
      url: event.ResponseURL,
      // The pre-signed URL is signed for an empty content type.
      headers: { 'content-type': '' },
      body,
      timeoutMs: 10_000,
    });
    if (res.status >= 200 && res.status < 300) {
      log('responded', { status: result.status, physicalResourceId: result.physicalResourceId, to: host });
      return;
    }
    log('response rejected', { httpStatus: res.status, attempt: attempt + 1, to: host });
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  };
  // Transport errors and 5xx: three attempts in all; a 4xx is final (the URL expired or was used).
  await withRetry(put, [{ retries: () => true, maxRetries: 2, delayMs: (n) => 500 * (n + 1) }], (e, attempt) =>
    log('response not delivered; retrying', { error: (e as Error).message, attempt: attempt + 1, to: host }),
  ).catch((e) => log('response not delivered', { error: (e as Error).message, to: host }));
}

/** Logs never carry the pre-signed query string. */
function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid ResponseURL)';
  }
}
