/** Guardrails: the guardrails in force (config and admin), each one's definition and stored versions. */
import { useState } from 'preact/hooks';
import { DataTable, Drawer, Loading, Notice, PageHeader, Pretty } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { formatTime } from '../format.ts';
import { useResource } from '../hooks.ts';

interface Guardrail {
  name: string;
  type: string;
  source: 'config' | 'admin';
  version: number | null;
  [field: string]: unknown;
}

interface Version {
  name: string;
  version: number;
  definition: Record<string, unknown> | null;
  created_at: string;
}

function Versions(props: { guardrail: Guardrail; onClose: () => void }) {
  const { api } = useDashboard();
  const versions = useResource(
    () => api.get<{ data: Version[] }>(`/guardrails/${encodeURIComponent(props.guardrail.name)}/versions`),
    [api, props.guardrail.name],
  );
  const { name: _name, source: _source, version: _version, ...definition } = props.guardrail;
  return (
    <Drawer title={`Guardrail ${props.guardrail.name}`} onClose={props.onClose}>
      <h3 class="small-heading">In force ({props.guardrail.source === 'config' ? 'config.yaml' : `version ${props.guardrail.version}`})</h3>
      <Pretty value={definition} label="Definition in force" />
      <h3 class="small-heading">Stored versions</h3>
      <Loading error={versions.error} loading={versions.loading} hasData={versions.data !== undefined} />
      {versions.data?.data.length === 0 ? <p class="muted small">None: this guardrail comes from the configuration only.</p> : null}
      {versions.data?.data.map((version) => (
        <div key={version.version} class="version">
          <p class="small">
            <strong>Version {version.version}</strong> · {formatTime(version.created_at)} {version.definition === null ? '· deleted' : ''}
          </p>
          {version.definition ? <Pretty value={version.definition} label={`Version ${version.version}`} /> : null}
        </div>
      ))}
    </Drawer>
  );
}

export function GuardrailsPage() {
  const { api } = useDashboard();
  const guardrails = useResource(() => api.get<{ data: Guardrail[] }>('/guardrails'), [api]);
  const [open, setOpen] = useState<Guardrail | null>(null);
  const describe = (row: Guardrail) =>
    ['mode', 'stage', 'action', 'on', 'applies_to']
      .filter((field) => row[field] !== undefined)
      .map((field) => `${field}: ${typeof row[field] === 'string' ? row[field] : JSON.stringify(row[field])}`)
      .join(', ');
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Guardrails" />
      <p class="muted">
        Guardrails check requests before they go upstream and answers before they reach the client. Changes are made through the admin API
        (/admin/api/v1/guardrails) or config.yaml; each stored change is a new version.
      </p>
      <Loading error={guardrails.error} loading={guardrails.loading} hasData={guardrails.data !== undefined} />
      {guardrails.error && (guardrails.error as { status?: number }).status === 404 ? (
        <Notice>Guardrails are not available on this gateway.</Notice>
      ) : null}
      {guardrails.data ? (
        <DataTable
          caption="Guardrails"
          testId="guardrails-table"
          rowKey={(row) => row.name}
          rows={guardrails.data.data}
          onRowClick={setOpen}
          empty="No guardrail is in force (GUARDRAILS_ENABLED and the guardrails: section of config.yaml, or the admin API)."
          columns={[
            { label: 'Name', value: (row) => row.name },
            { label: 'Type', value: (row) => row.type },
            { label: 'Settings', value: (row) => describe(row) || '–' },
            { label: 'Source', value: (row) => row.source },
            { label: 'Version', value: (row) => (row.version === null ? '–' : String(row.version)), numeric: true },
          ]}
        />
      ) : null}
      {open ? <Versions guardrail={open} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}
