/** Providers: health (model list), circuit breakers, latency and models of each configured provider. */
import { useState } from 'preact/hooks';
import { DataTable, Loading, Notice, PageHeader } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { formatInteger, formatMs, formatPercent } from '../format.ts';
import { useResource } from '../hooks.ts';
import { dayQuery, presetRange } from '../range.ts';

interface ProviderStatus {
  name: string;
  type: string;
  models: string[];
  last_list_error: string | null;
  native_responses_missing: boolean;
  keys: { key: string; weight: number; state: string; cool_down_ms: number | null; reason: string | null; requests: number }[] | null;
  targets: {
    model: string;
    circuit: 'closed' | 'open' | 'half-open';
    consecutive_failures: number;
    retry_in_ms: number;
    in_flight: number;
    latency_ms: number | null;
  }[];
}

interface ProviderUsage {
  provider: string;
  requests: number;
  error_requests: number;
  average_latency_ms: number;
}

export function ProvidersPage() {
  const { api, session, notify } = useDashboard();
  const [busy, setBusy] = useState(false);
  const status = useResource(() => api.get<{ data: ProviderStatus[] }>('/providers/status'), [api]);
  const usage = useResource(() => api.get<{ data: ProviderUsage[] }>('/usage/providers', dayQuery(presetRange('24h'))), [api]);
  const usageOf = (name: string) => usage.data?.data.find((row) => row.provider === name);
  const refresh = async () => {
    setBusy(true);
    try {
      await api.send('POST', '/runtime/refresh');
      notify('Model lists fetched again.');
      status.reload();
    } catch (error) {
      notify(`Refresh failed: ${(error as Error).message}`, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Providers">
        {session.read_only ? null : (
          <button type="button" class="button" onClick={refresh} disabled={busy}>
            Refresh model lists
          </button>
        )}
      </PageHeader>
      <Loading error={status.error} loading={status.loading} hasData={status.data !== undefined} />
      {status.data && status.data.data.length === 0 ? <Notice>No provider is configured.</Notice> : null}
      {status.data ? (
        <DataTable
          caption="Providers"
          testId="providers-table"
          rowKey={(row) => row.name}
          rows={status.data.data}
          columns={[
            { label: 'Provider', value: (row) => row.name },
            { label: 'Type', value: (row) => row.type },
            {
              label: 'Health',
              value: (row) => {
                const open = row.targets.filter((target) => target.circuit !== 'closed').length;
                if (row.last_list_error) return <span class="badge bad">model list failed</span>;
                if (open > 0) return <span class="badge bad">{`${open} circuit${open > 1 ? 's' : ''} open`}</span>;
                return <span class="badge ok">healthy</span>;
              },
            },
            { label: 'Models', value: (row) => formatInteger(row.models.length), numeric: true },
            { label: 'Requests 24 h', value: (row) => formatInteger(usageOf(row.name)?.requests ?? 0), numeric: true },
            {
              label: 'Error rate 24 h',
              value: (row) => {
                const entry = usageOf(row.name);
                return entry && entry.requests > 0 ? formatPercent(entry.error_requests / entry.requests) : '–';
              },
              numeric: true,
            },
            { label: 'Avg latency 24 h', value: (row) => formatMs(usageOf(row.name)?.average_latency_ms), numeric: true },
          ]}
        />
      ) : null}
      {status.data?.data.map((provider) => (
        <article class="card provider-card" key={provider.name} aria-labelledby={`provider-${provider.name}`}>
          <h2 id={`provider-${provider.name}`} class="card-title">
            {provider.name} <span class="muted small">({provider.type})</span>
          </h2>
          {provider.last_list_error ? <Notice kind="error">Model list: {provider.last_list_error}</Notice> : null}
          {provider.native_responses_missing ? (
            <p class="muted small">No native Responses API: Responses calls are translated to chat.</p>
          ) : null}
          <h3 class="small-heading">Circuit breakers and latency</h3>
          {provider.targets.length === 0 ? (
            <p class="muted small">No target has been called yet, or circuit breakers are off (CIRCUIT_BREAKER_FAILURE_THRESHOLD).</p>
          ) : (
            <DataTable
              caption={`Targets of ${provider.name}`}
              rowKey={(row) => row.model}
              rows={provider.targets}
              columns={[
                { label: 'Model', value: (row) => row.model },
                { label: 'Circuit', value: (row) => <span class={`badge ${row.circuit === 'closed' ? 'ok' : 'bad'}`}>{row.circuit}</span> },
                { label: 'Failures in a row', value: (row) => formatInteger(row.consecutive_failures), numeric: true },
                { label: 'Retry in', value: (row) => (row.retry_in_ms > 0 ? formatMs(row.retry_in_ms) : '–'), numeric: true },
                { label: 'In flight', value: (row) => formatInteger(row.in_flight), numeric: true },
                { label: 'Latency', value: (row) => formatMs(row.latency_ms), numeric: true },
              ]}
            />
          )}
          {provider.keys ? (
            <>
              <h3 class="small-heading">Key pool</h3>
              <DataTable
                caption={`Key pool of ${provider.name}`}
                rowKey={(row) => row.key}
                rows={provider.keys}
                columns={[
                  { label: 'Key', value: (row) => row.key },
                  { label: 'State', value: (row) => row.state },
                  { label: 'Weight', value: (row) => String(row.weight), numeric: true },
                  { label: 'Requests', value: (row) => formatInteger(row.requests), numeric: true },
                  { label: 'Reason', value: (row) => row.reason ?? '–' },
                ]}
              />
            </>
          ) : null}
          <h3 class="small-heading">Models ({provider.models.length})</h3>
          <p class="model-list">{provider.models.length ? provider.models.join(', ') : 'none listed'}</p>
        </article>
      ))}
    </section>
  );
}
