import { RestateCloudRegion } from '../src';

// What RestateCloudRegion.of() accepts, for callers without types too (JavaScript, or values
// read from configuration), and the full messages it refuses with.

describe('RestateCloudRegion.of: the name', () => {
  test('no props at all: the invalid-name error, not a TypeError', () => {
    expect(() => RestateCloudRegion.of(undefined as any)).toThrow(
      "RestateCloudRegion: invalid region name undefined: expected lowercase letters, digits or hyphens, e.g. 'us' or 'eu', or '<id>.byoc' for a bring-your-own-cloud region.",
    );
  });

  test.each([[123], [['us']], [{ toString: () => 'us' }]])('a name that is not a string (%j) is refused, even if it reads like one', (name) => {
    expect(() => RestateCloudRegion.of({ name: name as any, accountId: '123456789012' })).toThrow(/^RestateCloudRegion: invalid region name /);
  });

  test.each([['a'], ['7'], ['a.byoc']])('a one-character name or BYOC id (%j) is accepted', (name) => {
    expect(RestateCloudRegion.of({ name, accountId: '123456789012' }).name).toBe(name);
  });

  test('a BYOC name with text after .byoc is refused', () => {
    expect(() => RestateCloudRegion.of({ name: 'abc.byocx', accountId: '123456789012' })).toThrow(/^RestateCloudRegion: invalid region name "abc\.byocx"/);
  });
});

describe('RestateCloudRegion.of: the account id', () => {
  test.each([[123456789012], [['123456789012']]])('an account id that is not a string (%j) is refused, naming it and the 12-digit form', (accountId) => {
    expect(() => RestateCloudRegion.of({ name: 'ap', accountId: accountId as any })).toThrow(
      `RestateCloudRegion 'ap': invalid accountId ${JSON.stringify(accountId)}: expected the 12-digit AWS account id Restate Cloud calls from in that region (see the environment's settings in the Restate Cloud UI).`,
    );
  });
});
