/** A configuration problem found at start; the message names the offending key. */
export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`Invalid configuration: ${key}: ${message}`);
    this.name = 'ConfigError';
    this.key = key;
  }
}
