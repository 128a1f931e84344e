/** Usage: totals per model, provider, key, user, team or tag over a range, as tokens or cost; chart, table, CSV. */
import { useMemo, useState } from 'preact/hooks';
import { TimeChart } from '../components/chart.tsx';
import { RangePicker } from '../components/range-picker.tsx';
import { type Column, DataTable, Loading, PageHeader, StatCard, UsageBar } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { downloadCsv, toCsv } from '../csv.ts';
import { formatCompact, formatInteger, formatMs, formatUsd } from '../format.ts';
import { useResource } from '../hooks.ts';
import { dayQuery, eachDay, presetRange, previousRange, type TimeRange } from '../range.ts';

type GroupBy = 'model' | 'provider' | 'key' | 'user' | 'team' | 'tag';
type Measure = 'tokens' | 'cost';

interface Totals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
  unpriced_requests: number;
  error_requests: number;
  average_latency_ms: number;
}

interface GroupRow extends Totals {
  name: string;
  provider?: string;
}

const groupLabels: Record<GroupBy, string> = { model: 'Model', provider: 'Provider', key: 'Key', user: 'User', team: 'Team', tag: 'Tag' };

async function loadGroups(api: ReturnType<typeof useDashboard>['api'], range: TimeRange, by: GroupBy): Promise<GroupRow[]> {
  const query = dayQuery(range);
  if (by === 'model') {
    const answer = await api.get<{ data: (Totals & { model: string; provider: string })[] }>('/usage/models', query);
    return answer.data.map((row) => ({ ...row, name: row.model }));
  }
  if (by === 'provider') {
    const answer = await api.get<{ data: (Totals & { provider: string })[] }>('/usage/providers', query);
    return answer.data.map((row) => ({ ...row, name: row.provider }));
  }
  const answer = await api.get<{ data: (Totals & { group: string | null })[] }>('/usage/groups', { ...query, by });
  return answer.data.map((row) => ({ ...row, name: row.group ?? `(no ${by})` }));
}

export function UsagePage(props: { theme: string }) {
  const { api } = useDashboard();
  const [range, setRange] = useState<TimeRange>(() => presetRange('7d'));
  const [by, setBy] = useState<GroupBy>('model');
  const [measure, setMeasure] = useState<Measure>('tokens');
  const groups = useResource(() => loadGroups(api, range, by), [api, range, by]);
  const summary = useResource(
    () =>
      Promise.all([api.get<Totals>('/usage/summary', dayQuery(range)), api.get<Totals>('/usage/summary', dayQuery(previousRange(range)))]),
    [api, range],
  );
  const daily = useResource(() => api.get<{ data: (Totals & { period: string })[] }>('/usage/daily', dayQuery(range)), [api, range]);
  const value = (row: Totals) => (measure === 'tokens' ? row.total_tokens : row.cost_usd);
  const format = measure === 'tokens' ? formatCompact : formatUsd;
  const rows = groups.data ?? [];
  const maximum = Math.max(0, ...rows.map(value));
  const chart = useMemo(() => {
    const byDay = new Map((daily.data?.data ?? []).map((row) => [row.period, row]));
    const days = eachDay(range, (day, t) => ({ t, row: byDay.get(day) }));
    const pick = (row: Totals | undefined) => (row ? (measure === 'tokens' ? row.total_tokens : row.cost_usd) : 0);
    return {
      times: days.map((entry) => entry.t),
      series: [{ label: measure === 'tokens' ? 'Tokens' : 'Cost', values: days.map((entry) => pick(entry.row)) }],
    };
  }, [daily.data, measure, range]);
  const columns: Column<GroupRow>[] = [
    { label: groupLabels[by], value: (row) => row.name },
    ...(by === 'model' ? [{ label: 'Provider', value: (row: GroupRow) => row.provider ?? '–' }] : []),
    { label: 'Requests', value: (row) => formatInteger(row.requests), numeric: true },
    { label: 'Input tokens', value: (row) => formatInteger(row.input_tokens), numeric: true },
    { label: 'Output tokens', value: (row) => formatInteger(row.output_tokens), numeric: true },
    { label: 'Total tokens', value: (row) => formatInteger(row.total_tokens), numeric: true },
    { label: 'Cost', value: (row) => formatUsd(row.cost_usd), numeric: true },
    { label: 'Errors', value: (row) => formatInteger(row.error_requests), numeric: true },
    { label: 'Avg latency', value: (row) => formatMs(row.average_latency_ms), numeric: true },
  ];
  const exportCsv = () => {
    const header = [
      by,
      ...(by === 'model' ? ['provider'] : []),
      'requests',
      'input_tokens',
      'output_tokens',
      'total_tokens',
      'cost_usd',
      'unpriced_requests',
      'error_requests',
      'average_latency_ms',
    ];
    const body = rows.map((row) => [
      row.name,
      ...(by === 'model' ? [row.provider ?? ''] : []),
      row.requests,
      row.input_tokens,
      row.output_tokens,
      row.total_tokens,
      row.cost_usd,
      row.unpriced_requests,
      row.error_requests,
      row.average_latency_ms,
    ]);
    const { start_date, end_date } = dayQuery(range);
    downloadCsv(`modelgate-usage-by-${by}-${start_date}-${end_date}.csv`, toCsv(header, body));
  };
  const [current, previous] = summary.data ?? [];
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Usage">
        <RangePicker range={range} onChange={setRange} />
      </PageHeader>
      <div class="filters">
        <label class="field">
          Group by
          <select value={by} onChange={(event) => setBy((event.target as HTMLSelectElement).value as GroupBy)}>
            {Object.entries(groupLabels).map(([key, label]) => (
              <option value={key} key={key}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          Measure
          <select value={measure} onChange={(event) => setMeasure((event.target as HTMLSelectElement).value as Measure)}>
            <option value="tokens">Tokens</option>
            <option value="cost">Cost</option>
          </select>
        </label>
        <button type="button" class="button" onClick={exportCsv} disabled={rows.length === 0}>
          Export CSV
        </button>
      </div>
      <Loading error={summary.error ?? groups.error} loading={groups.loading} hasData={groups.data !== undefined} />
      {current && previous ? (
        <div class="stats" data-testid="usage-stats">
          <StatCard
            testId="usage-requests"
            label="Requests"
            value={formatInteger(current.requests)}
            current={current.requests}
            previous={previous.requests}
            previousText={formatInteger(previous.requests)}
          />
          <StatCard
            testId="usage-tokens"
            label="Tokens"
            value={formatInteger(current.total_tokens)}
            current={current.total_tokens}
            previous={previous.total_tokens}
            previousText={formatInteger(previous.total_tokens)}
          />
          <StatCard
            testId="usage-cost"
            label="Cost"
            value={formatUsd(current.cost_usd)}
            current={current.cost_usd}
            previous={previous.cost_usd}
            previousText={formatUsd(previous.cost_usd)}
            riseIsBad
          />
          <StatCard testId="usage-unpriced" label="Unpriced requests" value={formatInteger(current.unpriced_requests)} />
        </div>
      ) : null}
      <div class="grid-2">
        <TimeChart
          title={`${measure === 'tokens' ? 'Tokens' : 'Cost'} per day`}
          times={chart.times}
          series={chart.series}
          format={format}
          theme={props.theme}
          testId="usage-chart"
        />
        <div class="card" data-testid="usage-bars">
          <h2 class="card-title">
            {measure === 'tokens' ? 'Tokens' : 'Cost'} by {groupLabels[by].toLowerCase()}
          </h2>
          {rows.length === 0 ? <p class="muted">No usage in this range.</p> : null}
          {rows.slice(0, 10).map((row) => (
            <UsageBar neutral key={row.name} label={row.name} used={value(row)} limit={maximum} text={format(value(row))} />
          ))}
        </div>
      </div>
      <h2>By {groupLabels[by].toLowerCase()}</h2>
      <DataTable
        caption={`Usage by ${by}`}
        columns={columns}
        rows={rows}
        rowKey={(row) => `${row.name}/${row.provider ?? ''}`}
        testId="usage-table"
        empty="No usage in this range."
      />
    </section>
  );
}
