/** Budgets: every budget with its spend in the current period as a bar; create and delete (admin ones). */
import { useState } from 'preact/hooks';
import { useAdminAction } from '../admin-action.ts';
import { useDashboard } from '../context.ts';
import { formatTime, formatUsd } from '../format.ts';
import { type Budget, budgetPeriods, budgetScopes, type ManagedKey } from '../governance-types.ts';
import type { Resource } from '../hooks.ts';
import { actionsColumn, DeleteButton, FormError } from './admin-controls.tsx';
import { DataTable, Notice, UsageBar } from './ui.tsx';

export function BudgetsPanel(props: { budgets: Resource<{ data: Budget[] }>; keys: ManagedKey[] }) {
  const { api, session, notify } = useDashboard();
  const [scope, setScope] = useState<string>('key');
  const [subject, setSubject] = useState('');
  const [limit, setLimit] = useState('');
  const [period, setPeriod] = useState<string>('daily');
  const [error, setError] = useState<string | null>(null);
  const writable = !session.read_only;
  const act = useAdminAction(props.budgets.reload);
  const subjectName = (budget: Budget) => {
    if (budget.scope === 'global') return 'everything';
    if (budget.subject === '*') return `each ${budget.scope}`;
    if (budget.scope === 'key') {
      const key = props.keys.find((entry) => entry.id === budget.subject);
      return key?.name ? `${key.name} (${budget.subject})` : budget.subject;
    }
    return budget.subject;
  };
  const create = async (event: Event) => {
    event.preventDefault();
    const limitUsd = Number(limit);
    if (!Number.isFinite(limitUsd) || limitUsd <= 0) {
      setError('The limit must be a positive amount of USD.');
      return;
    }
    setError(null);
    try {
      await api.send('POST', '/budgets', {
        scope,
        ...(scope === 'global' ? {} : { subject: subject.trim() || '*' }),
        limit_usd: limitUsd,
        period,
      });
      notify('Budget created');
      setLimit('');
      setSubject('');
      props.budgets.reload();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <>
      <h2 id="budgets-title">Budgets</h2>
      {props.budgets.error ? <Notice kind="error">Could not load budgets: {props.budgets.error.message}</Notice> : null}
      {writable ? (
        <form class="filters budget-form" onSubmit={create} aria-labelledby="budgets-title">
          <label class="field">
            Scope
            <select value={scope} onChange={(event) => setScope((event.target as HTMLSelectElement).value)}>
              {budgetScopes.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            Subject (key id, user, team, tag, provider; empty: each)
            <input
              value={subject}
              onInput={(event) => setSubject((event.target as HTMLInputElement).value)}
              list="budget-key-ids"
              disabled={scope === 'global'}
            />
            <datalist id="budget-key-ids">
              {props.keys.map((key) => (
                <option key={key.id} value={key.id}>
                  {key.name ?? key.id}
                </option>
              ))}
            </datalist>
          </label>
          <label class="field">
            Limit (USD)
            <input inputMode="decimal" value={limit} onInput={(event) => setLimit((event.target as HTMLInputElement).value)} />
          </label>
          <label class="field">
            Period
            <select value={period} onChange={(event) => setPeriod((event.target as HTMLSelectElement).value)}>
              {budgetPeriods.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="button">
            Add budget
          </button>
          <FormError error={error} />
        </form>
      ) : null}
      <DataTable
        caption="Budgets"
        testId="budgets-table"
        rowKey={(row) => row.id}
        rows={props.budgets.data?.data ?? []}
        empty="No budget."
        columns={[
          { label: 'Scope', value: (row) => row.scope },
          { label: 'Subject', value: (row) => subjectName(row) },
          { label: 'Period', value: (row) => row.period },
          {
            label: 'Spent this period',
            value: (row) =>
              row.spent_usd === null ? (
                <span class="muted small">per subject: see each</span>
              ) : (
                <UsageBar
                  label={`until ${formatTime(row.current_period.end)}`}
                  used={row.spent_usd}
                  limit={row.limit_usd}
                  text={`${formatUsd(row.spent_usd)} / ${formatUsd(row.limit_usd)}`}
                />
              ),
          },
          { label: 'Source', value: (row) => row.source },
          ...actionsColumn(writable, (row: Budget) =>
            row.source === 'admin' ? (
              <DeleteButton
                label={`Delete budget ${row.id}`}
                confirmText={`Delete the ${row.period} budget of ${subjectName(row)}?`}
                onDelete={() => act('Budget deleted', () => api.send('DELETE', `/budgets/${encodeURIComponent(row.id)}`), 'Delete failed')}
              />
            ) : (
              <span class="muted small">config (read-only)</span>
            ),
          ),
        ]}
      />
    </>
  );
}
