/**
 * The statement the deployer keeps in a handler's resource policy: one id per invoker role and
 * environment, and the function name Lambda takes for it ($LATEST has no policy of its own).
 */
import { createHash } from 'crypto';
import { permissionFunctionName, statementId } from '../../src/deployer/statement-id';

test('one id per role and environment, stable across versions of the deployer', () => {
  const role = 'arn:aws:iam::111111111111:role/R';
  expect(statementId(role, 'https://a')).toBe(`restate-invoke-${createHash('sha256').update(`${role}|https://a`).digest('hex').slice(0, 16)}`);
  expect(statementId(role, 'https://a')).toMatch(/^restate-invoke-[0-9a-f]{16}$/);
  expect(statementId(role, 'https://b')).not.toBe(statementId(role, 'https://a'));
});

test('a version or alias names itself; $LATEST names the function', () => {
  const fn = 'arn:aws:lambda:us-east-1:111111111111:function:greeter';
  expect(permissionFunctionName(`${fn}:7`)).toBe(`${fn}:7`);
  expect(permissionFunctionName(`${fn}:live`)).toBe(`${fn}:live`);
  expect(permissionFunctionName(`${fn}:$LATEST`)).toBe(fn);
  expect(permissionFunctionName('$LATEST:x')).toBe('$LATEST:x');
});
