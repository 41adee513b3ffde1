/** Thrown at boot when an environment variable is invalid: the message names every bad variable. */
export class InvalidConfigException extends Error {
  constructor(
    readonly namespace: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration (${namespace}): ${problems.join('; ')}`);
    this.name = 'InvalidConfigException';
  }
}
