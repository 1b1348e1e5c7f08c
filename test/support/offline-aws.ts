// Jest setup: an AWS SDK call that a test has not pointed at a fake goes to a closed loopback
// port (and fails at once), never to AWS. Service-specific AWS_ENDPOINT_URL_* still win.
process.env.AWS_ENDPOINT_URL ??= 'http://127.0.0.1:9';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
