/**
 * One managed key's usage today, rate limits and budgets as bars. From GET /admin/api/v1/keys/{id}/usage
 * (what is left of each limit now, every budget that counts the key's calls) when the gateway has it, else
 * from the usage totals per key and the key's own limits and budgets.
 */
import { ApiError } from '../api.ts';
import { useDashboard } from '../context.ts';
import { formatInteger, formatMs, formatUsd } from '../format.ts';
import type { Budget, ManagedKey } from '../governance-types.ts';
import { useResource } from '../hooks.ts';
import { UsageBar } from './ui.tsx';

interface KeyUsageReport {
  usage: { requests: number; total_tokens: number; cost_usd: number };
  budgets: { id: string; scope: string; subject: string; period: string; limit_usd: number; spent_usd: number; resets_at: string }[];
  rate_limits: { scope: string; subject: string; name: string; limit: number; remaining: number; resets_in_ms: number | null }[];
}

const limitNames: Record<string, string> = {
  requests_per_minute: 'requests/min',
  requests_per_day: 'requests/day',
  tokens_per_minute: 'tokens/min',
  tokens_per_day: 'tokens/day',
  concurrent: 'concurrent',
};

function FromReport(props: { report: KeyUsageReport }) {
  const { report } = props;
  return (
    <div class="limits" data-source="key-usage">
      <span class="small">
        today: {formatInteger(report.usage.requests)} requests, {formatInteger(report.usage.total_tokens)} tokens,{' '}
        {formatUsd(report.usage.cost_usd)}
      </span>
      {report.rate_limits.map((limit) => {
        const label = `${limitNames[limit.name] ?? limit.name}${limit.scope === 'key' ? '' : ` (${limit.scope} ${limit.subject})`}`;
        const used = Math.max(0, limit.limit - limit.remaining);
        return (
          <UsageBar
            key={`${limit.scope}/${limit.name}`}
            label={limit.resets_in_ms ? `${label}, full in ${formatMs(limit.resets_in_ms)}` : label}
            used={used}
            limit={limit.limit}
            text={`${formatInteger(used)} / ${formatInteger(limit.limit)}`}
          />
        );
      })}
      {report.budgets.map((budget) => (
        <UsageBar
          key={budget.id}
          label={`${budget.period} budget${budget.scope === 'key' ? '' : ` (${budget.scope} ${budget.subject})`}`}
          used={budget.spent_usd}
          limit={budget.limit_usd}
          text={`${formatUsd(budget.spent_usd)} / ${formatUsd(budget.limit_usd)}`}
        />
      ))}
      {report.rate_limits.length === 0 && report.budgets.length === 0 ? <span class="muted small">no limit or budget applies</span> : null}
    </div>
  );
}

function Fallback(props: { keyEntry: ManagedKey; usage: { requests: number; total_tokens: number } | undefined; budgets: Budget[] }) {
  const limits = props.keyEntry.rate_limits;
  const requests = props.usage?.requests ?? 0;
  const tokens = props.usage?.total_tokens ?? 0;
  const perMinute = [
    limits.requests_per_minute ? `${limits.requests_per_minute} req/min` : null,
    limits.tokens_per_minute ? `${limits.tokens_per_minute} tok/min` : null,
    limits.concurrent ? `${limits.concurrent} concurrent` : null,
  ].filter(Boolean);
  return (
    <div class="limits" data-source="usage-groups">
      {limits.requests_per_day ? (
        <UsageBar
          label="requests today"
          used={requests}
          limit={limits.requests_per_day}
          text={`${formatInteger(requests)} / ${formatInteger(limits.requests_per_day)}`}
        />
      ) : (
        <span class="small">today: {formatInteger(requests)} requests</span>
      )}
      {limits.tokens_per_day ? (
        <UsageBar
          label="tokens today"
          used={tokens}
          limit={limits.tokens_per_day}
          text={`${formatInteger(tokens)} / ${formatInteger(limits.tokens_per_day)}`}
        />
      ) : (
        <span class="muted small">{formatInteger(tokens)} tokens</span>
      )}
      {perMinute.length ? <span class="small">{perMinute.join(', ')}</span> : null}
      {props.budgets.map((budget) => (
        <UsageBar
          key={budget.id}
          label={`${budget.period} budget`}
          used={budget.spent_usd ?? 0}
          limit={budget.limit_usd}
          text={`${formatUsd(budget.spent_usd)} / ${formatUsd(budget.limit_usd)}`}
        />
      ))}
    </div>
  );
}

export function KeyLimits(props: {
  keyEntry: ManagedKey;
  usage: { requests: number; total_tokens: number } | undefined;
  budgets: Budget[];
  /** The page's lists (keys, budgets): when one is loaded again (a key or budget changed), so is the report. */
  versions?: unknown[];
}) {
  const { api } = useDashboard();
  const id = props.keyEntry.id;
  const report = useResource(
    () => api.get<KeyUsageReport>(`/keys/${encodeURIComponent(id)}/usage`, { days: 1 }),
    [api, id, ...(props.versions ?? [])],
  );
  if (report.data) return <FromReport report={report.data} />;
  if (report.error instanceof ApiError && report.error.status === 404) return <Fallback {...props} />;
  if (report.error) return <span class="muted small">usage unavailable: {report.error.message}</span>;
  return <span class="muted small">…</span>;
}
