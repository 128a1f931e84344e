/**
 * The one secrets scrubber. It knows every configured secret (provider API keys, key-pool keys, the
 * master key, database and Redis passwords) and the shapes of keys that must never leave the process
 * even when nobody configured them here: managed gateway keys (`mg-…`) and provider keys as providers
 * print them (`sk-…`, `sk-ant-…`, `AIza…`, `gsk_…`, `xai-…`, `Bearer …`). Everything that leaves the
 * process passes through it: error messages (every GatewayError), log lines, audit and usage rows, and
 * /metrics.
 *
 * `processScrubber` is the process's instance: errors are built deep inside provider adapters, far from
 * the gateway object, so each gateway adds its configured secrets to it at start (a process that hosts
 * several gateways, as tests do, scrubs the union, which is only safer).
 */

export const redacted = '[REDACTED]';

/** Key shapes masked wherever they appear, configured or not. */
const keyShapes = [
  // Managed gateway keys: `mg-` + 32 random bytes as base64url (src/governance/keys/managed-key.ts).
  String.raw`mg-[A-Za-z0-9_-]{20,}`,
  // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-…`) keys.
  String.raw`sk-[A-Za-z0-9_-]{16,}`,
  // Google API keys (Gemini).
  String.raw`AIza[0-9A-Za-z_-]{30,}`,
  // Groq.
  String.raw`gsk_[A-Za-z0-9]{20,}`,
  // xAI.
  String.raw`xai-[A-Za-z0-9_-]{20,}`,
];
const bearer = String.raw`Bearer\s+[A-Za-z0-9._~+/=-]{8,}`;
/** Not part of a longer token: a key shape must start at a token boundary. */
const boundary = String.raw`(?<![A-Za-z0-9_-])`;

export interface SecretScrubber {
  /** Replaces every known secret and key-shaped token in `text`. */
  scrub(text: string): string;
  /** `scrub` for a value that may be absent. */
  scrubNullable(text: string | null): string | null;
  /** Adds secrets (values shorter than 6 characters are ignored: they would mask ordinary words). */
  add(secrets: Iterable<string | undefined>): void;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createSecretScrubber(secrets: Iterable<string | undefined> = []): SecretScrubber {
  const needles = new Set<string>();
  let pattern = build();

  function build(): RegExp {
    // Longest first, so a secret that contains another is masked whole.
    const literals = [...needles].sort((left, right) => right.length - left.length).map(escapeRegExp);
    const shapes = keyShapes.map((shape) => `${boundary}${shape}`);
    return new RegExp([...literals, bearer, ...shapes].join('|'), 'g');
  }

  const scrubber: SecretScrubber = {
    scrub(text) {
      if (text.length < 6) return text;
      pattern.lastIndex = 0;
      return text.replace(pattern, redacted);
    },
    scrubNullable(text) {
      return text === null ? null : scrubber.scrub(text);
    },
    add(more) {
      let changed = false;
      for (const secret of more) {
        if (!secret || secret.length < 6) continue;
        // As it is, as it appears inside JSON text, and as it appears in a URL.
        for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
          if (needles.has(form)) continue;
          needles.add(form);
          changed = true;
        }
      }
      if (changed) pattern = build();
    },
  };
  scrubber.add(secrets);
  return scrubber;
}

/** The password of a connection URL (`postgres://user:password@host/db`), if it has one. */
function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** Every secret the configuration holds. */
/** The parts of the gateway configuration that hold secrets (structural, so this file imports nothing). */
export interface SecretsOfConfig {
  masterKey: string | undefined;
  providers: { apiKey?: string | undefined; apiKeys?: { key: string }[] | undefined }[];
  storage: { postgresUrl: string | undefined };
  state: { redisUrl: string | undefined };
}

export function configuredSecrets(config: SecretsOfConfig): string[] {
  const secrets = [config.masterKey, urlPassword(config.storage.postgresUrl), urlPassword(config.state.redisUrl)];
  for (const provider of config.providers) {
    secrets.push(provider.apiKey);
    for (const entry of provider.apiKeys ?? []) secrets.push(entry.key);
  }
  return secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
}

/** The process's scrubber (see the file comment). */
export const processScrubber = createSecretScrubber();
