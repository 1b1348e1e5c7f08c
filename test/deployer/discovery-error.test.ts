import { describeDiscoveryFailure } from '../../src/deployer/discovery-error';

// The texts restate-server 1.7.12 answers POST /deployments with, captured against the loopback
// AWS stand-ins by test/integration/lambda-path.integ.ts (debug dumps shortened where marked).

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Capture:1';
const dump = ' (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Other(None), source: ProviderError(... 3 KB ...) }))';

test.each([
  [
    'AssumeRole denied',
    `[META0003] [META0003] error when calling '${ARN}': lambda service returned error: dispatch failure: other: an error occurred while loading credentials: service error: unhandled error (AccessDenied): Error { code: "AccessDenied", message: "User: arn:aws:sts::654654156625:assumed-role/RestateCloud/restate-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Untrusting", aws_request_id: "669af2fd" }${dump}`,
    'META0003',
    'assume-role-denied',
    `error when calling '${ARN}': AccessDenied: User: arn:aws:sts::654654156625:assumed-role/RestateCloud/restate-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Untrusting`,
  ],
  [
    'Invoke denied',
    `[META0003] [META0003] error when calling '${ARN}': lambda service returned error: service error: unhandled error (AccessDeniedException): Error { code: "AccessDeniedException", message: "User: arn:aws:sts::123456789012:assumed-role/RestateInvoker/restate-1796167574 is not authorized to perform: lambda:InvokeFunction on resource: ${ARN} because no resource-based policy allows the lambda:InvokeFunction action", aws_request_id: "9c4db478" } (ServiceError(ServiceError { ... }))`,
    'META0003',
    'invoke-denied',
    `error when calling '${ARN}': AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/RestateInvoker/restate-1796167574 is not authorized to perform: lambda:InvokeFunction on resource: ${ARN} because no resource-based policy allows the lambda:InvokeFunction action`,
  ],
  [
    'version not found',
    `[META0003] [META0003] error when calling '${ARN}': lambda service returned error: service error: ResourceNotFoundException: Function not found: ${ARN}: ResourceNotFoundException: Function not found: ${ARN} (ServiceError(ServiceError { ... }))`,
    'META0003',
    'function-not-found',
    `error when calling '${ARN}': lambda service returned error: service error: ResourceNotFoundException: Function not found: ${ARN}`,
  ],
  [
    'handler throwing',
    `[META0003] [META0003] error when calling '${ARN}': function returned an error during execution: {"errorMessage":"Cannot read properties of undefined (reading 'config')","errorType":"TypeError","trace":["TypeError: ..."]}`,
    'META0003',
    'handler-error',
    `error when calling '${ARN}': the function threw TypeError: Cannot read properties of undefined (reading 'config')`,
  ],
  [
    'not a Restate handler',
    "[META0013] [META0013] received a bad response from the SDK: No content type header was specified. Expected one of '\"application/vnd.restate.endpointmanifest.v1+json\"' content type.",
    'META0013',
    'not-restate',
    "received a bad response from the SDK: No content type header was specified. Expected one of '\"application/vnd.restate.endpointmanifest.v1+json\"' content type.",
  ],
  [
    'an HTTP endpoint refusing connections',
    "[META0003] [META0003] error when calling 'http://127.0.0.1:36773/': h2 pool connection error: Connection refused (os error 111)",
    'META0003',
    'other',
    "error when calling 'http://127.0.0.1:36773/': h2 pool connection error: Connection refused (os error 111)",
  ],
])('%s: kind and summary', (_what, message, code, kind, summary) => {
  expect(describeDiscoveryFailure(message, code)).toEqual({ kind, summary });
});
