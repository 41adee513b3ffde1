/* global require, exports */
/* eslint-disable @typescript-eslint/no-require-imports */
// A `.js` policy plugin for the loader tests: upper-cases response text and adds a suffix.
const { z } = require('zod');

exports.policyTypes = [
  {
    name: 'shout',
    description: 'Upper-cases response text.',
    options: z.object({ suffix: z.string().default('!') }).strict(),
    create: (options, { name }) => ({
      name,
      onTextDelta: (_ctx, text) => text.toUpperCase(),
      onTextComplete: () => options.suffix,
    }),
  },
];
