/** Admin API under /admin/api/v1: usage totals and series, usage and audit logs, models. Master key required when set. */
import { GatewayError } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import { publicModelIds } from '../routes/models.ts';
import { parseAuditFilters, parsePage, parseUsageFilters } from './admin-filters.ts';
import { type AdminQueries, foldPeriods, type UsageGroup, usageGroups } from './queries.ts';

export const adminPrefix = '/admin/api/v1';

function json(body: unknown): JsonReply {
  return { kind: 'json', status: 200, body };
}

/** Query values as single strings (a repeated parameter keeps its first value). */
export function flatQuery(request: GatewayRequest): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') result[name] = first;
  }
  return result;
}

function notFound(what: string): GatewayError {
  return new GatewayError(`${what} not found`, { status: 404, code: 'not_found', retryable: false });
}

export function createAdminRoutes(queries: AdminQueries, registry: ModelRegistry): Route[] {
  const get = (path: string, handler: (request: GatewayRequest, query: Record<string, string>) => Promise<JsonReply>): Route => ({
    method: 'GET',
    path: `${adminPrefix}${path}`,
    authenticated: true,
    handler: async (request) => {
      try {
        return await handler(request, flatQuery(request));
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw new GatewayError('The records database is unavailable', { status: 503, code: 'storage_unavailable', cause: error });
      }
    },
  });
  const rangeOf = (filters: ReturnType<typeof parseUsageFilters>) => ({
    start_date: filters.range.startDay,
    end_date: filters.range.endDay,
  });
  return [
    get('/usage/summary', async (_request, query) => {
      const filters = parseUsageFilters(query);
      return json({ ...rangeOf(filters), ...(await queries.summary(filters)) });
    }),
    get('/usage/daily', async (_request, query) => {
      const filters = parseUsageFilters(query);
      const interval = query.interval ?? 'day';
      const days = await queries.daily(filters);
      if (interval === 'week' || interval === 'month') {
        return json({ ...rangeOf(filters), interval, data: foldPeriods(days, interval) });
      }
      if (interval !== 'day') {
        throw new GatewayError("'interval' must be day, week or month", { status: 400, code: 'invalid_value', param: 'interval' });
      }
      return json({ ...rangeOf(filters), interval, data: days.map(({ day, ...totals }) => ({ period: day, ...totals })) });
    }),
    get('/usage/weekly', async (_request, query) => {
      const filters = parseUsageFilters(query);
      return json({ ...rangeOf(filters), interval: 'week', data: foldPeriods(await queries.daily(filters), 'week') });
    }),
    get('/usage/monthly', async (_request, query) => {
      const filters = parseUsageFilters(query);
      return json({ ...rangeOf(filters), interval: 'month', data: foldPeriods(await queries.daily(filters), 'month') });
    }),
    get('/usage/models', async (_request, query) => {
      const filters = parseUsageFilters(query);
      return json({ ...rangeOf(filters), data: await queries.byModel(filters) });
    }),
    get('/usage/providers', async (_request, query) => {
      const filters = parseUsageFilters(query);
      return json({ ...rangeOf(filters), data: await queries.byProvider(filters) });
    }),
    get('/usage/groups', async (_request, query) => {
      const filters = parseUsageFilters(query);
      const by = query.by ?? '';
      if (!(usageGroups as readonly string[]).includes(by)) {
        throw new GatewayError(`'by' must be one of ${usageGroups.join(', ')}`, { status: 400, code: 'invalid_value', param: 'by' });
      }
      return json({ ...rangeOf(filters), by, data: await queries.byGroup(filters, by as UsageGroup) });
    }),
    get('/usage/log', async (_request, query) => {
      const filters = parseUsageFilters(query);
      return json({ ...rangeOf(filters), ...(await queries.usageLog(filters, parsePage(query))) });
    }),
    get('/audit/log', async (_request, query) => {
      const filters = parseAuditFilters(query);
      return json({ ...rangeOf(filters), ...(await queries.auditLog(filters, parsePage(query))) });
    }),
    get('/audit/log/:id', async (request) => {
      const entry = await queries.auditEntryById(request.params.id ?? '');
      if (!entry) throw notFound('Audit entry');
      return json(entry);
    }),
    get('/audit/log/:id/thread', async (request) => {
      const thread = await queries.thread(request.params.id ?? '');
      if (!thread) throw notFound('Audit entry');
      return json(thread);
    }),
    get('/audit/conversation', async (_request, query) => {
      const id = query.log_id ?? query.id;
      if (!id)
        throw new GatewayError("Missing required parameter: 'log_id'", {
          status: 400,
          code: 'missing_required_parameter',
          param: 'log_id',
        });
      const thread = await queries.thread(id);
      if (!thread) throw notFound('Audit entry');
      return json(thread);
    }),
    get('/models', async () => {
      await registry.ready();
      const types = new Map(registry.list().map((entry) => [`${entry.provider}/${entry.id}`, entry.providerType]));
      return json({
        object: 'list',
        data: publicModelIds(registry).map((model) => ({
          id: model.id,
          qualified_id: model.qualifiedId,
          provider: model.provider,
          provider_type: types.get(model.qualifiedId) ?? null,
        })),
      });
    }),
  ];
}
