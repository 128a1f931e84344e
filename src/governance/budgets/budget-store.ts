/**
 * Budgets written through the admin API, in the database (table `budget`), together with the budgets of
 * the configuration (read-only). Every replica keeps all of them in memory: a write is announced on the
 * shared state's `governance:budgets` channel and every replica reloads the table when the message comes;
 * a reload every few seconds catches a lost message. The spend itself is not here: it is in the shared
 * state's counters (budget-stage.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SharedState } from '../../state/shared-state.ts';
import { registerMigration, type Storage, type StorageDialect } from '../../storage/database.ts';
import { type Budget, type BudgetFields, budgetFromFields } from './budget-config.ts';

export const budgetsChannel = 'governance:budgets';

interface BudgetTable {
  id: string;
  name: string | null;
  scope: string;
  subject: string;
  limit_usd: number;
  period: string;
  period_seconds: number | null;
  soft_threshold: number | null;
  created_at: number;
  updated_at: number;
}

type BudgetTables = { budget: BudgetTable };

async function createBudgetTable(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  const time = dialect === 'postgresql' ? 'bigint' : 'integer';
  const real = dialect === 'postgresql' ? 'double precision' : 'real';
  await db.schema
    .createTable('budget')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('name', 'varchar(255)')
    .addColumn('scope', 'varchar(16)', (column) => column.notNull())
    .addColumn('subject', 'varchar(255)', (column) => column.notNull())
    .addColumn('limit_usd', real, (column) => column.notNull())
    .addColumn('period', 'varchar(16)', (column) => column.notNull())
    .addColumn('period_seconds', 'integer')
    .addColumn('soft_threshold', real)
    .addColumn('created_at', time, (column) => column.notNull())
    .addColumn('updated_at', time, (column) => column.notNull())
    .execute();
}

registerMigration({ name: '20261202-31-budgets', up: createBudgetTable });

function fromRow(row: BudgetTable): Budget {
  return budgetFromFields(
    row.id,
    {
      name: row.name,
      scope: row.scope as Budget['scope'],
      subject: row.subject,
      limit_usd: Number(row.limit_usd),
      period: row.period as Budget['period'],
      ...(row.period_seconds === null ? {} : { period_seconds: Number(row.period_seconds) }),
      soft_threshold: row.soft_threshold === null ? null : Number(row.soft_threshold),
    },
    'admin',
  );
}

function toRow(budget: Budget, createdAt: number, updatedAt: number): BudgetTable {
  return {
    id: budget.id,
    name: budget.name,
    scope: budget.scope,
    subject: budget.subject,
    limit_usd: budget.limitUsd,
    period: budget.period,
    period_seconds: budget.periodSeconds,
    soft_threshold: budget.softThreshold,
    created_at: createdAt,
    updated_at: updatedAt,
  };
}

export interface BudgetStore {
  /** Every budget in force (configuration first, then the admin API's), from memory. */
  all(): readonly Budget[];
  find(id: string): Budget | undefined;
  create(fields: BudgetFields): Promise<Budget>;
  update(id: string, fields: BudgetFields): Promise<Budget | undefined>;
  remove(id: string): Promise<boolean>;
  /** Re-reads the table (called on messages and periodically). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface BudgetStoreOptions {
  storage: Storage;
  state: SharedState;
  configured: Budget[];
  now?: () => number;
  reloadMs?: number;
  onError?: (error: unknown) => void;
}

export async function createBudgetStore(options: BudgetStoreOptions): Promise<BudgetStore> {
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const db = options.storage.db.withTables<BudgetTables>() as unknown as Kysely<BudgetTables>;
  let stored: Budget[] = [];
  let all: readonly Budget[] = options.configured;
  let generation = 0;

  const reload = async () => {
    const started = ++generation;
    const rows = await db.selectFrom('budget').selectAll().orderBy('created_at').orderBy('id').execute();
    // Only the latest reload started is applied, so a slow one cannot put an older snapshot back.
    if (started !== generation) return;
    stored = rows.map(fromRow);
    all = [...options.configured, ...stored];
  };
  await reload();
  const announce = async () => {
    await reload();
    await options.state.publish(budgetsChannel, 'changed').catch(onError);
  };
  const unsubscribe = await options.state
    .subscribe(budgetsChannel, () => {
      reload().catch(onError);
    })
    .catch((error: unknown) => {
      onError(error);
      return async () => {};
    });
  const timer = setInterval(() => reload().catch(onError), options.reloadMs ?? 5000);
  timer.unref();

  const isStored = (id: string) => stored.some((budget) => budget.id === id);

  return {
    all: () => all,
    find: (id) => all.find((budget) => budget.id === id),
    async create(fields) {
      const budget = budgetFromFields(`budget_${randomBytes(10).toString('hex')}`, fields, 'admin');
      const at = now();
      await db.insertInto('budget').values(toRow(budget, at, at)).execute();
      await announce();
      return budget;
    },
    async update(id, fields) {
      if (!isStored(id)) await reload();
      const current = await db.selectFrom('budget').select(['created_at']).where('id', '=', id).executeTakeFirst();
      if (!current) return undefined;
      const budget = budgetFromFields(id, fields, 'admin');
      await db.updateTable('budget').set(toRow(budget, Number(current.created_at), now())).where('id', '=', id).execute();
      await announce();
      return budget;
    },
    async remove(id) {
      const result = await db.deleteFrom('budget').where('id', '=', id).executeTakeFirst();
      await announce();
      return Number(result.numDeletedRows) > 0;
    },
    reload,
    async close() {
      clearInterval(timer);
      await unsubscribe().catch(() => {});
    },
  };
}
