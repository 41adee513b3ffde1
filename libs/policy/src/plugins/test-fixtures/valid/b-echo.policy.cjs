/* eslint-disable @typescript-eslint/no-require-imports */
// A `.cjs` policy plugin for the loader tests: two types, one answering requests itself.
const { z } = require('zod');

const echo = {
  name: 'echo',
  description: 'Answers every request with a fixed text.',
  options: z.object({ text: z.string().min(1) }).strict(),
  create: (options, { name }) => ({
    name,
    onRequest: () => ({ action: 'respond', text: options.text }),
  }),
};

const silent = {
  name: 'silent',
  description: 'Does nothing.',
  options: z.object({}).strict(),
  create: (_options, { name }) => ({ name }),
};

module.exports = { policyTypes: [echo, silent] };
