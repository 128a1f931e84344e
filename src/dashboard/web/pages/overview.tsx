/** Overview: requests, tokens, cost, error rate, latency, cache, over the chosen range and the one before. */
import { useMemo, useState } from 'preact/hooks';
import { type ChartSeries, TimeChart } from '../components/chart.tsx';
import { RangePicker } from '../components/range-picker.tsx';
import { Loading, Notice, PageHeader, StatCard } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { formatCompact, formatInteger, formatMs, formatPercent, formatUsd } from '../format.ts';
import { useResource } from '../hooks.ts';
import { presetRange, type TimeRange } from '../range.ts';
import { loadSeries, type SeriesPoint, type SeriesTotals, type UsageSeries } from '../series.ts';

interface Metric {
  id: string;
  label: string;
  total: (totals: SeriesTotals) => number | null;
  point: (point: SeriesPoint) => number | null;
  format: (value: number | null) => string;
  riseIsBad?: boolean;
  integer?: boolean;
}

const metrics: Metric[] = [
  { id: 'requests', label: 'Requests', total: (t) => t.requests, point: (p) => p.requests, format: formatInteger, integer: true },
  { id: 'tokens', label: 'Tokens', total: (t) => t.total_tokens, point: (p) => p.total_tokens, format: formatCompact, integer: true },
  { id: 'cost', label: 'Cost', total: (t) => t.cost_usd, point: (p) => p.cost_usd, format: formatUsd, riseIsBad: true },
  {
    id: 'error-rate',
    label: 'Error rate',
    total: (t) => t.error_rate,
    point: (p) => p.error_rate,
    format: (v) => formatPercent(v),
    riseIsBad: true,
  },
  {
    id: 'latency-p50',
    label: 'Latency p50',
    total: (t) => t.latency_p50_ms,
    point: (p) => p.latency_p50_ms,
    format: formatMs,
    riseIsBad: true,
  },
  {
    id: 'latency-p95',
    label: 'Latency p95',
    total: (t) => t.latency_p95_ms,
    point: (p) => p.latency_p95_ms,
    format: formatMs,
    riseIsBad: true,
  },
  {
    id: 'cache-hit-rate',
    label: 'Cache hit rate',
    total: (t) => t.cache_hit_rate,
    point: (p) => (p.cache_hits === null || p.requests === 0 ? null : p.cache_hits / p.requests),
    format: (v) => formatPercent(v),
  },
  { id: 'saved-cost', label: 'Saved by cache', total: (t) => t.saved_cost_usd, point: (p) => p.saved_cost_usd, format: formatUsd },
];

function chartSeries(series: UsageSeries, metric: Metric): { times: number[]; series: ChartSeries[] } {
  const times = series.points.map((point) => point.t);
  const previous = series.previous.points;
  return {
    times,
    series: [
      { label: 'This period', values: series.points.map(metric.point) },
      {
        label: 'Previous period',
        values: series.points.map((_point, index) => (previous[index] ? metric.point(previous[index]) : null)),
        previous: true,
      },
    ],
  };
}

export function OverviewPage(props: { theme: string }) {
  const { api } = useDashboard();
  const [range, setRange] = useState<TimeRange>(() => presetRange('7d'));
  const resource = useResource(() => loadSeries(api, range), [api, range]);
  const data = resource.data;
  const charts = useMemo(() => (data ? metrics.map((metric) => ({ metric, ...chartSeries(data, metric) })) : []), [data]);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Overview">
        <RangePicker range={range} onChange={setRange} />
      </PageHeader>
      <Loading error={resource.error} loading={resource.loading} hasData={data !== undefined} />
      {data?.source === 'daily' ? (
        <Notice kind="warn">
          This gateway has no /usage/timeseries endpoint: daily totals are shown; latency percentiles and cache hits are unavailable.
        </Notice>
      ) : null}
      {data ? (
        <>
          <div class="stats" data-testid="overview-stats">
            {metrics.map((metric) => (
              <StatCard
                key={metric.id}
                testId={`stat-${metric.id}`}
                label={metric.label}
                value={metric.format(metric.total(data.totals))}
                current={metric.total(data.totals)}
                previous={metric.total(data.previous.totals)}
                previousText={metric.format(metric.total(data.previous.totals))}
                riseIsBad={metric.riseIsBad ?? false}
              />
            ))}
          </div>
          <div class="charts">
            {charts.map((chart) => (
              <TimeChart
                key={chart.metric.id}
                testId={`chart-${chart.metric.id}`}
                title={`${chart.metric.label} per ${data.bucket}`}
                times={chart.times}
                series={chart.series}
                format={chart.metric.format}
                theme={props.theme}
                integer={chart.metric.integer ?? false}
                emptyText={
                  data.source === 'daily' && chart.metric.total(data.totals) === null
                    ? 'Unavailable on this gateway.'
                    : 'No data for this range.'
                }
              />
            ))}
          </div>
        </>
      ) : null}
    </section>
  );
}
