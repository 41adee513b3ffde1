// Not loaded (only `.js` and `.cjs` are): loading it would fail the test, `policyTypes` is not an array.
export const policyTypes = 'an .mjs module is never loaded';
