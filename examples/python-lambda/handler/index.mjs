// Placeholder for your Restate service, bundled into this directory (see ../README.md).
// Restate's discovery call fails against this placeholder with the message below, so a deploy
// with it tells you exactly what to replace.
export const handler = async () => {
  throw new Error(
    'This is the placeholder handler of the restate-cloud-cdk Lambda example: bundle your Restate service into handler/index.mjs.',
  );
};
