/**
 * Swagger UI at /swagger, showing /openapi.json, served from the `swagger-ui-dist` package on disk (no CDN);
 * files are read on first request and kept.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GatewayError } from '../core/errors.ts';
import type { Route } from '../http/types.ts';

const swaggerFiles: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
};

const swaggerPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Modelgate API</title>
<link rel="stylesheet" href="/swagger/swagger-ui.css">
<link rel="stylesheet" href="/swagger/index.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger/swagger-ui-bundle.js"></script>
<script src="/swagger/swagger-ui-standalone-preset.js"></script>
<script src="/swagger/initializer.js"></script>
</body>
</html>
`;

const swaggerInitializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout'
  });
};
`;

export function createSwaggerRoutes(): Route[] {
  const directory = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, string>();
  return [
    {
      method: 'GET',
      path: '/swagger',
      authenticated: false,
      handler: async () => ({ kind: 'text', status: 200, contentType: 'text/html; charset=utf-8', body: swaggerPage }),
    },
    {
      method: 'GET',
      path: '/swagger/:file',
      authenticated: false,
      handler: async (request) => {
        const file = request.params.file ?? '';
        if (file === 'initializer.js') {
          return { kind: 'text', status: 200, contentType: 'application/javascript; charset=utf-8', body: swaggerInitializer };
        }
        // Own keys only: `constructor` or `__proto__` must not find Object.prototype's.
        const contentType = Object.hasOwn(swaggerFiles, file) ? swaggerFiles[file] : undefined;
        if (!contentType)
          throw new GatewayError(`Unknown endpoint GET /swagger/${file}`, { status: 404, code: 'unknown_endpoint', retryable: false });
        let body = cache.get(file);
        if (body === undefined) {
          body = readFileSync(join(directory, file), 'utf8');
          cache.set(file, body);
        }
        return { kind: 'text', status: 200, contentType, headers: { 'cache-control': 'public, max-age=86400' }, body };
      },
    },
  ];
}
