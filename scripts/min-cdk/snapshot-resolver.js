// Jest snapshot resolver of scripts/check-min-cdk.sh. Snapshots taken against the lowest supported
// aws-cdk-lib live in scripts/min-cdk/__snapshots__/<test path>.snapshot: not *.snap, so that the
// normal test run neither reports them obsolete nor deletes them with `-u`. Other snapshot files
// (test/__snapshots__/*.snap, the current aws-cdk-lib's) resolve to their tests as jest's default.
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(__dirname, '__snapshots__');

module.exports = {
  resolveSnapshotPath: (testPath) => path.join(dir, `${path.relative(root, testPath)}.snapshot`),
  resolveTestPath: (snapshotPath, snapshotExtension) =>
    snapshotPath.endsWith('.snapshot')
      ? path.join(root, path.relative(dir, snapshotPath).slice(0, -'.snapshot'.length))
      : path.join(path.dirname(path.dirname(snapshotPath)), path.basename(snapshotPath, snapshotExtension)),
  testPathForConsistencyCheck: path.join(root, 'test', 'example.test.ts'),
};
