/**
 * The texts restate-server 1.7.12 answers POST /deployments with when discovery fails, captured
 * against the loopback AWS stand-ins by test/integration/lambda-path.integ.ts (debug dumps
 * shortened where marked), with the kind and summary the deployer reads from each.
 */
import { DiscoveryFailureKind } from '../../src/deployer/discovery-error';

export const CAPTURED_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Capture:1';
const dump = ' (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other(None), source: ProviderError(... 3 KB ...) }))';

export interface CapturedDiscoveryFailure {
  readonly what: string;
  readonly message: string;
  readonly code: string;
  readonly kind: DiscoveryFailureKind;
  readonly summary: string;
}

export const DISCOVERY_FAILURES: CapturedDiscoveryFailure[] = [
  {
    what: 'AssumeRole denied',
    message: `[META0003] [META0003] error when calling '${CAPTURED_ARN}': lambda service returned error: dispatch failure: other: an error occurred while loading credentials: service error: unhandled error (AccessDenied): Error { code: "AccessDenied", message: "User: arn:aws:sts::654654156625:assumed-role/RestateCloud/restate-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Untrusting", aws_request_id: "669af2fd" }${dump}`,
    code: 'META0003',
    kind: 'assume-role-denied',
    summary: `error when calling '${CAPTURED_ARN}': AccessDenied: User: arn:aws:sts::654654156625:assumed-role/RestateCloud/restate-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Untrusting`,
  },
  {
    what: 'Invoke denied',
    message: `[META0003] [META0003] error when calling '${CAPTURED_ARN}': lambda service returned error: service error: unhandled error (AccessDeniedException): Error { code: "AccessDeniedException", message: "User: arn:aws:sts::123456789012:assumed-role/RestateInvoker/restate-1796167574 is not authorized to perform: lambda:InvokeFunction on resource: ${CAPTURED_ARN} because no resource-based policy allows the lambda:InvokeFunction action", aws_request_id: "9c4db478" } (ServiceError(ServiceError { ... }))`,
    code: 'META0003',
    kind: 'invoke-denied',
    summary: `error when calling '${CAPTURED_ARN}': AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/RestateInvoker/restate-1796167574 is not authorized to perform: lambda:InvokeFunction on resource: ${CAPTURED_ARN} because no resource-based policy allows the lambda:InvokeFunction action`,
  },
  {
    what: 'version not found',
    message: `[META0003] [META0003] error when calling '${CAPTURED_ARN}': lambda service returned error: service error: ResourceNotFoundException: Function not found: ${CAPTURED_ARN}: ResourceNotFoundException: Function not found: ${CAPTURED_ARN} (ServiceError(ServiceError { ... }))`,
    code: 'META0003',
    kind: 'function-not-found',
    summary: `error when calling '${CAPTURED_ARN}': lambda service returned error: service error: ResourceNotFoundException: Function not found: ${CAPTURED_ARN}`,
  },
  {
    what: 'handler throwing',
    message: `[META0003] [META0003] error when calling '${CAPTURED_ARN}': function returned an error during execution: {"errorMessage":"Cannot read properties of undefined (reading 'config')","errorType":"TypeError","trace":["TypeError: ..."]}`,
    code: 'META0003',
    kind: 'handler-error',
    summary: `error when calling '${CAPTURED_ARN}': the function threw TypeError: Cannot read properties of undefined (reading 'config')`,
  },
  {
    what: 'not a Restate handler',
    message:
      "[META0013] [META0013] received a bad response from the SDK: No content type header was specified. Expected one of '\"application/vnd.restate.endpointmanifest.v1+json\"' content type.",
    code: 'META0013',
    kind: 'not-restate',
    summary: "received a bad response from the SDK: No content type header was specified. Expected one of '\"application/vnd.restate.endpointmanifest.v1+json\"' content type.",
  },
  {
    what: 'an HTTP endpoint refusing connections',
    message: "[META0003] [META0003] error when calling 'http://127.0.0.1:36773/': h2 pool connection error: Connection refused (os error 111)",
    code: 'META0003',
    kind: 'other',
    summary: "error when calling 'http://127.0.0.1:36773/': h2 pool connection error: Connection refused (os error 111)",
  },
];

/** The captured failure of `kind`. */
export function capturedFailure(kind: DiscoveryFailureKind): CapturedDiscoveryFailure {
  return DISCOVERY_FAILURES.find((f) => f.kind === kind)!;
}
