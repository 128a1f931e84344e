/**
 * GET /v1/usage: the calling key's own usage over a date range, the budgets that apply to it and its rate
 * limits (inference scope; never another key's records). GET /admin/api/v1/keys/{id}/usage: the same report
 * for any managed key, for the admin UI's Keys page. Date range as on the admin usage endpoints: `days`
 * (default 30) or `start_date`/`end_date` (YYYY-MM-DD, UTC, inclusive). Errors are OpenAI-shaped.
 */
import { adminPrefix, flatQuery } from '../../admin/admin-routes.ts';
import { documentOperations } from '../../admin/openapi-registry.ts';
import { parseRange } from '../../admin/admin-filters.ts';
import { GatewayError } from '../../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../../http/types.ts';
import type { KeyStore } from '../keys/key-store.ts';
import type { KeyUsageReporter, ReportSubject } from './key-usage-report.ts';
import { keyUsageReportSchema } from './key-usage-schemas.ts';

const rangeParameters = [
  { name: 'days', in: 'query' as const, description: 'Days ending at end_date (default 30; used when start_date is absent)' },
  { name: 'start_date', in: 'query' as const, description: 'First day, YYYY-MM-DD (UTC), inclusive' },
  { name: 'end_date', in: 'query' as const, description: 'Last day, YYYY-MM-DD (UTC), inclusive; default today' },
];

documentOperations(
  {
    method: 'get',
    path: '/v1/usage',
    tag: 'Models',
    summary: "The calling key's own usage, budgets (spent, remaining, reset) and rate limits (remaining now)",
    description:
      'Any key with the inference scope. Usage totals count only the calls made with this key; budgets are those that apply ' +
      'to it (its own, its user, team and tags, global) with the spend of their current period; rate limits are those of ' +
      'the key, its user and team, and global.',
    parameters: rangeParameters,
    response: keyUsageReportSchema,
    errors: [400, 401, 403, 503],
  },
  {
    method: 'get',
    path: `${adminPrefix}/keys/{id}/usage`,
    tag: 'Admin: keys',
    summary: "A managed key's usage, budgets and rate limits with live numbers (as GET /v1/usage shows it to the key)",
    parameters: [{ name: 'id', in: 'path' }, ...rangeParameters],
    response: keyUsageReportSchema,
    errors: [400, 401, 403, 404, 503],
  },
);

function reply(body: unknown): JsonReply {
  return { kind: 'json', status: 200, body, headers: { 'cache-control': 'no-store' } };
}

async function guarded(work: () => Promise<JsonReply>): Promise<JsonReply> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError('The records database is unavailable', { status: 503, code: 'storage_unavailable', cause: error });
  }
}

export function createKeyUsageRoutes(report: KeyUsageReporter, keys: KeyStore): Route[] {
  const range = (request: GatewayRequest) => parseRange(flatQuery(request));
  return [
    {
      method: 'GET',
      path: '/v1/usage',
      authenticated: true,
      handler: (request) =>
        guarded(async () => {
          const parsed = range(request);
          let subject: ReportSubject;
          if (request.keyId === null) subject = { kind: 'open' };
          else if (request.keyId.startsWith('master:')) subject = { kind: 'master', recordKeyId: request.keyId };
          else {
            const key = keys.byId(request.keyId);
            // Deleted between authentication and this answer.
            if (!key) throw new GatewayError('Invalid API key', { status: 401, code: 'invalid_api_key', retryable: false });
            subject = { kind: 'managed_key', key };
          }
          return reply(await report(subject, parsed));
        }),
    },
    {
      method: 'GET',
      path: `${adminPrefix}/keys/:id/usage`,
      authenticated: true,
      handler: (request) =>
        guarded(async () => {
          const parsed = range(request);
          const id = request.params.id ?? '';
          const key = await keys.find(id);
          if (!key)
            throw new GatewayError(`API key '${id}' not found`, { status: 404, code: 'key_not_found', param: 'id', retryable: false });
          return reply(await report({ kind: 'managed_key', key }, parsed));
        }),
    },
  ];
}
