/** An invalid policy configuration: at boot it stops the gateway; on the admin API it is a 400. */
export class PolicyConfigException extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid policy configuration (${source}): ${problems.join('; ')}`);
    this.name = 'PolicyConfigException';
  }
}
