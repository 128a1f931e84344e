/** Cache: the response cache's state (hits, misses, saved tokens and cost, store size) and purge. */
import { useMemo, useState } from 'preact/hooks';
import { TimeChart } from '../components/chart.tsx';
import { DataTable, Loading, Notice, PageHeader, StatCard, UsageBar } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { formatCompact, formatInteger, formatPercent, formatUsd } from '../format.ts';
import { useResource } from '../hooks.ts';
import { eachDay } from '../range.ts';

interface CacheTotals {
  hits: number;
  misses: number;
  bypasses: number;
  hit_rate: number | null;
  saved_tokens: number;
  saved_cost_usd: number;
  /** The semantic layer's own embedding calls and their cost (gateways that report them). */
  embedder_requests?: number;
  embedder_cost_usd?: number;
}

interface CacheOverview {
  enabled: { exact: boolean; semantic: boolean };
  ttl_seconds: number;
  scope: string;
  store: { kind: string; entries: number | null; bytes: number | null; max_entries: number | null; max_bytes: number | null } | null;
  process: { hits: number; misses: number; bypasses: number; stored: number; errors: number };
  totals: CacheTotals;
  daily: (CacheTotals & { day: string })[];
}

const formatPercentValue = (value: number) => formatPercent(value);

function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value < 1024) return `${value} B`;
  if (value < 1024 ** 2) return `${(value / 1024).toFixed(1)} KiB`;
  if (value < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(1)} MiB`;
  return `${(value / 1024 ** 3).toFixed(2)} GiB`;
}

export function CachePage(props: { theme?: string }) {
  const { api, session, notify } = useDashboard();
  const [days, setDays] = useState('30');
  const [model, setModel] = useState('');
  const [keyId, setKeyId] = useState('');
  const overview = useResource(() => api.get<CacheOverview>('/cache/overview', { days }), [api, days]);
  const data = overview.data;
  const chart = useMemo(() => {
    const byDay = new Map((data?.daily ?? []).map((row) => [row.day, row]));
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const range = { preset: 'custom' as const, start: today - (Number(days) - 1) * 86_400_000, end: today + 86_400_000 };
    const points = eachDay(range, (day, t) => ({ t, row: byDay.get(day) }));
    return {
      times: points.map((entry) => entry.t),
      series: [{ label: 'Hit rate', values: points.map((entry) => entry.row?.hit_rate ?? null) }],
    };
  }, [data, days]);
  const purge = async (event: Event) => {
    event.preventDefault();
    const what = [model && `model ${model}`, keyId && `key ${keyId}`].filter(Boolean).join(' and ') || 'every entry';
    if (!confirm(`Purge the response cache (${what})?`)) return;
    try {
      const answer = await api.send<{ purged: number | null }>(
        'DELETE',
        `/cache?${new URLSearchParams({ ...(model ? { model } : {}), ...(keyId ? { key_id: keyId } : {}) })}`,
      );
      notify(answer.purged === null ? 'Cache purged' : `Cache purged: ${answer.purged} entries removed`);
      overview.reload();
    } catch (failure) {
      notify(`Purge failed: ${(failure as Error).message}`, 'error');
    }
  };
  const enabled = data ? data.enabled.exact || data.enabled.semantic : false;
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Cache">
        <label class="inline">
          Period
          <select value={days} onChange={(event) => setDays((event.target as HTMLSelectElement).value)}>
            <option value="1">Today</option>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
          </select>
        </label>
      </PageHeader>
      <Loading error={overview.error} loading={overview.loading} hasData={data !== undefined} />
      {data && !enabled ? (
        <Notice kind="warn">
          The response cache is off (RESPONSE_CACHE_SIMPLE_ENABLED, SEMANTIC_CACHE_ENABLED). Past records are still counted below.
        </Notice>
      ) : null}
      {data ? (
        <>
          <div class="stats" data-testid="cache-stats">
            <StatCard testId="cache-hit-rate" label="Hit rate" value={formatPercent(data.totals.hit_rate)} />
            <StatCard testId="cache-hits" label="Hits" value={formatInteger(data.totals.hits)} />
            <StatCard testId="cache-misses" label="Misses" value={formatInteger(data.totals.misses)} />
            <StatCard testId="cache-saved-tokens" label="Saved tokens" value={formatCompact(data.totals.saved_tokens)} />
            <StatCard testId="cache-saved-cost" label="Saved cost" value={formatUsd(data.totals.saved_cost_usd)} />
            <StatCard testId="cache-entries" label="Entries stored" value={formatInteger(data.store?.entries)} />
            {data.totals.embedder_requests ? (
              <StatCard
                testId="cache-embedder"
                label="Semantic embeddings (cost)"
                value={`${formatInteger(data.totals.embedder_requests)} (${formatUsd(data.totals.embedder_cost_usd)})`}
              />
            ) : null}
          </div>
          <div class="grid-2">
            <div class="card">
              <h2 class="card-title">Configuration</h2>
              <dl class="details">
                <dt>Exact cache</dt>
                <dd>{data.enabled.exact ? 'on' : 'off'}</dd>
                <dt>Semantic cache</dt>
                <dd>{data.enabled.semantic ? 'on' : 'off'}</dd>
                <dt>TTL</dt>
                <dd>{formatInteger(data.ttl_seconds)} s</dd>
                <dt>Scope</dt>
                <dd>{data.scope}</dd>
                <dt>Store</dt>
                <dd>{data.store?.kind ?? 'none'}</dd>
              </dl>
              {data.store?.max_entries ? (
                <UsageBar
                  label="Entries"
                  used={data.store.entries ?? 0}
                  limit={data.store.max_entries}
                  text={`${formatInteger(data.store.entries)} / ${formatInteger(data.store.max_entries)}`}
                />
              ) : null}
              {data.store?.max_bytes ? (
                <UsageBar
                  label="Size"
                  used={data.store.bytes ?? 0}
                  limit={data.store.max_bytes}
                  text={`${bytes(data.store.bytes)} / ${bytes(data.store.max_bytes)}`}
                />
              ) : null}
            </div>
            <TimeChart
              title="Hit rate per day"
              times={chart.times}
              series={chart.series}
              format={formatPercentValue}
              theme={props.theme ?? 'light'}
              testId="cache-chart"
            />
          </div>
          {!session.read_only && data.store ? (
            <form class="filters card purge" onSubmit={purge} aria-labelledby="purge-title">
              <h2 id="purge-title" class="card-title">
                Purge
              </h2>
              <label class="field">
                Requested model (empty: all)
                <input value={model} onInput={(event) => setModel((event.target as HTMLInputElement).value)} />
              </label>
              <label class="field">
                Key id (empty: all)
                <input value={keyId} onInput={(event) => setKeyId((event.target as HTMLInputElement).value)} />
              </label>
              <button type="submit" class="button danger">
                Purge cache
              </button>
            </form>
          ) : null}
          <h2>Per day</h2>
          <DataTable
            caption="Cache per day"
            testId="cache-daily"
            rowKey={(row) => row.day}
            rows={[...data.daily].reverse()}
            empty="No cached traffic in this period."
            columns={[
              { label: 'Day', value: (row) => row.day },
              { label: 'Hits', value: (row) => formatInteger(row.hits), numeric: true },
              { label: 'Misses', value: (row) => formatInteger(row.misses), numeric: true },
              { label: 'Bypasses', value: (row) => formatInteger(row.bypasses), numeric: true },
              { label: 'Hit rate', value: (row) => formatPercent(row.hit_rate), numeric: true },
              { label: 'Saved tokens', value: (row) => formatInteger(row.saved_tokens), numeric: true },
              { label: 'Saved cost', value: (row) => formatUsd(row.saved_cost_usd), numeric: true },
            ]}
          />
        </>
      ) : null}
    </section>
  );
}
