/**
 * Budget admin API under /admin/api/v1/budgets: list, create, read, replace (PUT) and delete. Budgets of
 * the configuration are listed (source `config`) but cannot be changed here.
 */
import type { z } from 'zod';
import { adminPrefix } from '../../admin/admin-routes.ts';
import { GatewayError, invalidRequest } from '../../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../../http/types.ts';
import type { SharedState } from '../../state/shared-state.ts';
import { parseBody } from '../keys/key-routes.ts';
import { type Budget, type BudgetConfig, checkBudgetFields } from './budget-config.ts';
import { budgetRequest, type budgetObject } from './budget-schemas.ts';
import { counterKey, createWindowCache } from './budget-stage.ts';
import type { BudgetStore } from './budget-store.ts';
import { nanoPerUsd } from './worst-case-cost.ts';

function notFound(id: string): GatewayError {
  return new GatewayError(`Budget '${id}' not found`, { status: 404, code: 'budget_not_found', param: 'id', retryable: false });
}

export function createBudgetRoutes(store: BudgetStore, state: SharedState, config: BudgetConfig, now: () => number = Date.now): Route[] {
  const windowOf = createWindowCache(config, now);
  const present = async (budget: Budget): Promise<z.infer<typeof budgetObject>> => {
    const window = windowOf(budget);
    let spent: number | null = null;
    if (budget.subject !== '*' || budget.scope === 'global') {
      const [value] = await state.counters([counterKey(budget, budget.subject, window)]);
      spent = (value ?? 0) / nanoPerUsd;
    }
    return {
      object: 'budget',
      id: budget.id,
      name: budget.name,
      scope: budget.scope,
      subject: budget.subject,
      limit_usd: budget.limitUsd,
      period: budget.period,
      period_seconds: budget.periodSeconds,
      soft_threshold: budget.softThreshold ?? config.softThreshold,
      source: budget.source,
      current_period: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
      spent_usd: spent,
    };
  };
  const fields = (request: GatewayRequest) => {
    const body = parseBody(budgetRequest, request.body);
    const problem = checkBudgetFields(body);
    if (problem) throw invalidRequest(problem, 'period_seconds', 'invalid_value');
    return body;
  };
  const reply = (body: unknown, status = 200): JsonReply => ({ kind: 'json', status, body, headers: { 'cache-control': 'no-store' } });
  const route = (method: Route['method'], path: string, handler: (request: GatewayRequest) => Promise<JsonReply>): Route => ({
    method,
    path: `${adminPrefix}/budgets${path}`,
    authenticated: true,
    handler: async (request) => {
      try {
        return await handler(request);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw new GatewayError('The budget database is unavailable', { status: 503, code: 'storage_unavailable', cause: error });
      }
    },
  });
  const stored = (id: string) => {
    const budget = store.find(id);
    if (!budget) throw notFound(id);
    if (budget.source === 'config') {
      throw new GatewayError(`Budget '${id}' comes from the configuration (config.yaml or env) and cannot be changed here`, {
        status: 409,
        code: 'budget_read_only',
        param: 'id',
        retryable: false,
      });
    }
    return budget;
  };
  return [
    route('GET', '', async () => reply({ object: 'list', data: await Promise.all(store.all().map(present)) })),
    route('POST', '', async (request) => reply(await present(await store.create(fields(request))), 201)),
    route('GET', '/:id', async (request) => {
      const id = request.params.id ?? '';
      const budget = store.find(id);
      if (!budget) throw notFound(id);
      return reply(await present(budget));
    }),
    route('PUT', '/:id', async (request) => {
      const id = request.params.id ?? '';
      stored(id);
      const updated = await store.update(id, fields(request));
      if (!updated) throw notFound(id);
      return reply(await present(updated));
    }),
    route('DELETE', '/:id', async (request) => {
      const id = request.params.id ?? '';
      stored(id);
      if (!(await store.remove(id))) throw notFound(id);
      return reply({ object: 'budget.deleted', id, deleted: true });
    }),
  ];
}
