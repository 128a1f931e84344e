/** Logs: the audit log with filters, pages of 50, and a drawer with one call's details and conversation. */
import { useState } from 'preact/hooks';
import type { AuditEntry } from '../audit-types.ts';
import { LogDrawer } from '../components/log-drawer.tsx';
import { DataTable, Loading, Notice, PageHeader } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { formatInteger, formatMs, formatTime } from '../format.ts';
import { useResource } from '../hooks.ts';

interface Filters {
  days: string;
  model: string;
  provider: string;
  key_id: string;
  status: string;
  errors_only: boolean;
  search: string;
}

const pageSize = 50;
const empty: Filters = { days: '7', model: '', provider: '', key_id: '', status: '', errors_only: false, search: '' };

function matches(entry: AuditEntry, search: string): boolean {
  if (!search) return true;
  const needle = search.toLowerCase();
  const haystack = [
    entry.request_id,
    entry.model,
    entry.requested_model,
    entry.provider,
    entry.path,
    entry.key_id,
    entry.error?.message,
    entry.error?.code,
    JSON.stringify(entry.request_body ?? ''),
    JSON.stringify(entry.response_body ?? ''),
  ];
  return haystack.some((value) => typeof value === 'string' && value.toLowerCase().includes(needle));
}

export function LogsPage() {
  const { api } = useDashboard();
  const [draft, setDraft] = useState<Filters>(empty);
  const [filters, setFilters] = useState<Filters>(empty);
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const log = useResource(
    () =>
      api.get<{ data: AuditEntry[]; total: number }>('/audit/log', {
        days: filters.days,
        model: filters.model,
        provider: filters.provider,
        key_id: filters.key_id,
        status: filters.status,
        errors_only: filters.errors_only ? 'true' : undefined,
        q: filters.search,
        limit: pageSize,
        offset,
      }),
    [api, filters, offset],
  );
  const rows = (log.data?.data ?? []).filter((entry) => matches(entry, filters.search));
  const field = (name: keyof Filters, label: string, extra: Record<string, string> = {}) => (
    <label class="field">
      {label}
      <input
        name={name}
        value={draft[name] as string}
        onInput={(event) => setDraft((current) => ({ ...current, [name]: (event.target as HTMLInputElement).value }))}
        {...extra}
      />
    </label>
  );
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Logs" />
      <form
        class="filters card"
        aria-label="Log filters"
        onSubmit={(event) => {
          event.preventDefault();
          setOffset(0);
          setFilters(draft);
        }}
      >
        <label class="field">
          Time
          <select
            value={draft.days}
            onChange={(event) => setDraft((current) => ({ ...current, days: (event.target as HTMLSelectElement).value }))}
          >
            <option value="1">Today</option>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>
        </label>
        {field('model', 'Model')}
        {field('provider', 'Provider')}
        {field('key_id', 'Key id')}
        {field('status', 'Status', { inputMode: 'numeric' })}
        {field('search', 'Search text')}
        <label class="inline">
          <input
            type="checkbox"
            checked={draft.errors_only}
            onChange={(event) => setDraft((current) => ({ ...current, errors_only: (event.target as HTMLInputElement).checked }))}
          />{' '}
          Errors only
        </label>
        <button type="submit" class="button primary">
          Apply
        </button>
        <button
          type="button"
          class="button"
          onClick={() => {
            setDraft(empty);
            setFilters(empty);
            setOffset(0);
          }}
        >
          Clear
        </button>
      </form>
      <Loading error={log.error} loading={log.loading} hasData={log.data !== undefined} />
      {log.error && (log.error as { status?: number }).status === 503 ? (
        <Notice kind="warn">The records database is unavailable.</Notice>
      ) : null}
      {log.data ? (
        <>
          <p class="muted small" data-testid="logs-total">
            {formatInteger(log.data.total)} entries{filters.search ? `; ${rows.length} of this page match “${filters.search}”` : ''}
          </p>
          <DataTable
            caption="Audit log"
            testId="logs-table"
            rowKey={(row) => row.id}
            rows={rows}
            onRowClick={setOpen}
            empty="No entry matches (the audit log is kept when LOGGING_ENABLED=true)."
            columns={[
              { label: 'Time', value: (row) => formatTime(row.created_at) },
              { label: 'Status', value: (row) => <span class={`badge ${row.status >= 400 ? 'bad' : 'ok'}`}>{row.status}</span> },
              { label: 'Model', value: (row) => row.model ?? row.requested_model ?? '–' },
              { label: 'Provider', value: (row) => row.provider ?? '–' },
              { label: 'Endpoint', value: (row) => row.endpoint },
              { label: 'Key', value: (row) => row.key_id ?? '–' },
              { label: 'Latency', value: (row) => formatMs(row.latency_ms), numeric: true },
              { label: 'Error', value: (row) => row.error?.code ?? '' },
            ]}
          />
          <div class="pager">
            <button type="button" class="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>
              Newer
            </button>
            <span class="muted small">
              {log.data.total === 0 ? 0 : offset + 1}–{Math.min(offset + pageSize, log.data.total)} of {formatInteger(log.data.total)}
            </span>
            <button
              type="button"
              class="button"
              disabled={offset + pageSize >= log.data.total}
              onClick={() => setOffset(offset + pageSize)}
            >
              Older
            </button>
          </div>
        </>
      ) : null}
      {open ? <LogDrawer entry={open} onClose={() => setOpen(null)} onOpen={setOpen} /> : null}
    </section>
  );
}
