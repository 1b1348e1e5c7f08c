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
const TRUNCATED = ' [truncated]';

export function responseBody(event: CloudFormationCustomResourceEvent, result: CfnResult, logStream?: string): string {
  const build = (reason: string, data: Record<string, string>) =>
    JSON.stringify({
      Status: result.status,
      Reason: reason,
      PhysicalResourceId: result.physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
      Data: data,
    });
  let reason = result.reason ?? (logStream ? `See CloudWatch log stream ${logStream}` : 'OK');
  let data = result.data ?? {};
  if (Buffer.byteLength(build(TRUNCATED, data)) > MAX_BODY_BYTES) {
    // No reason would fit beside the data (hundreds of service names): an answer without it
    // still ends the wait, and its reason says why the attributes are missing.
    data = {};
    reason = `The response's Data (${Object.keys(result.data ?? {}).join(', ')}) was left out: it exceeds CloudFormation's ${MAX_BODY_BYTES}-byte limit. ${reason}`;
  }
  let body = build(reason, data);
  // Each cut removes at least as many bytes as the body is over (every character is 1 byte or
  // more); it stops at the marker alone.
  while (Buffer.byteLength(body) > MAX_BODY_BYTES && reason.length > TRUNCATED.length) {
    const over = Buffer.byteLength(body) - MAX_BODY_BYTES;
    reason = reason.slice(0, Math.max(0, reason.length - TRUNCATED.length - over)) + TRUNCATED;
    body = build(reason, data);
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
