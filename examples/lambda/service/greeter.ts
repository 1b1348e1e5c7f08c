// The Greeter service the example deploys, with the Restate TypeScript SDK. Bundle it into one
// file and point the app's `handlerDir` at the result (see ../README.md):
//   npx esbuild service/greeter.ts --bundle --minify --platform=node --format=esm --outfile=dist/greeter/index.mjs
import * as restate from '@restatedev/restate-sdk/lambda';

const greeter = restate.service({
  name: 'Greeter',
  handlers: {
    // Takes a JSON string, answers with a JSON string that contains it.
    greet: async (_ctx: restate.Context, name: string) => `Hello, ${name}!`,
  },
});

// Set RESTATE_IDENTITY_KEYS (RestateRequestIdentity.addToFunction) to accept only requests
// signed by your environment.
const identityKeys = process.env.RESTATE_IDENTITY_KEYS?.split(',');

export const handler = restate.createEndpointHandler({ services: [greeter], identityKeys });
