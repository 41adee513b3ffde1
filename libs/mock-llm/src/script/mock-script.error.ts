/** A scripted request whose `x-mock-script` header or `<mock>` tag is not a valid {@link MockScript}; answered with 400. */
export class MockScriptError extends Error {
  override readonly name = 'MockScriptError';
}
