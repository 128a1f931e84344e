/** OpenAPI operations of the budget admin API, from its zod schemas (budget-schemas.ts). */
import { adminPrefix } from '../../admin/admin-routes.ts';
import { documentOperations } from '../../admin/openapi-registry.ts';
import { budgetDeleted, budgetList, budgetObject, budgetRequest } from './budget-schemas.ts';

const tag = 'Admin: budgets';
const base = `${adminPrefix}/budgets`;
const id = [{ name: 'id', in: 'path' as const }];
const errors = [400, 401, 403, 404];

documentOperations(
  { method: 'get', path: base, tag, summary: 'List budgets (configured and stored) with the spend of their current period', response: budgetList, errors: [401, 403] },
  { method: 'post', path: base, tag, summary: 'Create a budget; in force on every replica within seconds', request: budgetRequest, response: budgetObject, status: 201, errors },
  { method: 'get', path: `${base}/{id}`, tag, summary: 'Read a budget and its current spend', parameters: id, response: budgetObject, errors },
  {
    method: 'put',
    path: `${base}/{id}`,
    tag,
    summary: 'Replace a budget (budgets from config.yaml or env are read-only); its spend so far is kept when scope, subject and period stay',
    parameters: id,
    request: budgetRequest,
    response: budgetObject,
    errors,
  },
  { method: 'delete', path: `${base}/{id}`, tag, summary: 'Delete a budget', parameters: id, response: budgetDeleted, errors },
);
