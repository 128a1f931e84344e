/**
 * Scopes of managed keys: `inference` (model calls and the other /v1 endpoints), `admin:read` (GET on
 * the admin API and /metrics) and `admin` (everything, reads included). The master key has every scope.
 */
import { GatewayError } from '../../core/errors.ts';
import type { Route } from '../../http/types.ts';
import type { KeyStore } from './key-store.ts';
import type { KeyScope, ManagedKey } from './managed-key.ts';

export function requiredScope(route: Pick<Route, 'method' | 'path'>): KeyScope {
  if (route.path.startsWith('/admin/') || route.path === '/metrics') return route.method === 'GET' ? 'admin:read' : 'admin';
  return 'inference';
}

export function hasScope(key: ManagedKey, scope: KeyScope): boolean {
  return key.scopes.includes(scope) || (scope === 'admin:read' && key.scopes.includes('admin'));
}

/** Wraps an authenticated route so that a managed key without the route's scope gets 403. */
export function withScopeCheck(route: Route, store: KeyStore): Route {
  if (!route.authenticated) return route;
  const scope = requiredScope(route);
  const { handler } = route;
  return {
    ...route,
    handler: async (request) => {
      const key = request.keyId === null ? undefined : store.byId(request.keyId);
      if (key && !hasScope(key, scope)) {
        throw new GatewayError(`This API key lacks the '${scope}' scope needed for ${route.method} ${route.path}`, {
          status: 403,
          code: 'insufficient_scope',
          retryable: false,
        });
      }
      return handler(request);
    },
  };
}
