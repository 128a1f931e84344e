/** OpenAPI description of `/p/{provider}/{path}` (merged into /openapi.json by src/admin/openapi.ts). */
type Schema = Record<string, unknown>;

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

function operation(method: string, withPath: boolean): Schema {
  return {
    tags: ['Passthrough'],
    summary: `${method} on the provider's own API`,
    description:
      "Relayed opaque to the provider's base URL: the caller's credentials, hop-by-hop and forwarding headers are removed and the " +
      "provider's credentials added; bodies stream both ways. With ALLOW_PASSTHROUGH_V1_ALIAS (default true) a leading `/v1` is " +
      'dropped when the base URL already ends in a version. Paths with dot segments, encoded slashes, backslashes or dots are refused ' +
      "with 400. Gateway errors use the provider's error shape (Anthropic, Google or OpenAI).",
    parameters: [
      { name: 'provider', in: 'path', required: true, schema: { type: 'string' }, description: 'Configured provider instance (its type must be in ENABLED_PASSTHROUGH_PROVIDERS)' },
      ...(withPath
        ? [{ name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: "Path under the provider's base URL, e.g. v1/chat/completions" }]
        : []),
    ],
    responses: {
      default: { description: "The provider's answer, relayed as it is (status, headers and body)" },
      '400': { description: 'Path refused', content: errorContent },
      '401': { description: 'Missing or invalid gateway key', content: errorContent },
      '404': { description: 'Provider not configured or not enabled for passthrough', content: errorContent },
      '502': { description: 'Provider unreachable', content: errorContent },
    },
  };
}

const methods = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

export const passthroughOpenApiPaths: Record<string, Schema> = {
  '/p/{provider}/{path}': Object.fromEntries(methods.map((method) => [method, operation(method.toUpperCase(), true)])),
  '/p/{provider}': Object.fromEntries(methods.map((method) => [method, operation(method.toUpperCase(), false)])),
};
