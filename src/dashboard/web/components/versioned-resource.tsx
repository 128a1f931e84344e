/**
 * A versioned admin resource (guardrails, workflows: GET /{plural} and /{plural}/{name}/versions): the entries
 * in force (config and admin) in a table, and a drawer with one entry's definition and its stored versions.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useDashboard } from '../context.ts';
import { formatTime } from '../format.ts';
import { useResource } from '../hooks.ts';
import { DataTable, Drawer, Loading, NotBuilt, Pretty } from './ui.tsx';

export interface VersionedEntry {
  name: string;
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

function Versions(props: { plural: string; noun: string; entry: VersionedEntry; onClose: () => void }) {
  const { api } = useDashboard();
  const versions = useResource(
    () => api.get<{ data: Version[] }>(`/${props.plural}/${encodeURIComponent(props.entry.name)}/versions`),
    [api, props.plural, props.entry.name],
  );
  const { name: _name, source: _source, version: _version, ...definition } = props.entry;
  return (
    <Drawer title={`${props.noun} ${props.entry.name}`} onClose={props.onClose}>
      <h3 class="small-heading">In force ({props.entry.source === 'config' ? 'config.yaml' : `version ${props.entry.version}`})</h3>
      <Pretty value={definition} label="Definition in force" />
      <h3 class="small-heading">Stored versions</h3>
      <Loading error={versions.error} loading={versions.loading} hasData={versions.data !== undefined} />
      {versions.data?.data.length === 0 ? <p class="muted small">None: this one comes from the configuration only.</p> : null}
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

export function VersionedResource(props: {
  plural: string;
  noun: string;
  /** Fields of a definition summarised in the table's Settings column. */
  summaryFields: string[];
  empty: string;
  /** Shown instead when the gateway has no such endpoint (404). */
  notBuilt: ComponentChildren;
  testId: string;
}) {
  const { api } = useDashboard();
  const entries = useResource(() => api.get<{ data: VersionedEntry[] }>(`/${props.plural}`), [api, props.plural]);
  const [open, setOpen] = useState<VersionedEntry | null>(null);
  if (entries.error && (entries.error as { status?: number }).status === 404)
    return <NotBuilt feature={props.noun}>{props.notBuilt}</NotBuilt>;
  const summary = (row: VersionedEntry) =>
    props.summaryFields
      .filter((field) => row[field] !== undefined)
      .map((field) => `${field}: ${typeof row[field] === 'string' ? row[field] : JSON.stringify(row[field])}`)
      .join(', ');
  return (
    <>
      <Loading error={entries.error} loading={entries.loading} hasData={entries.data !== undefined} />
      {entries.data ? (
        <DataTable
          caption={props.plural}
          testId={props.testId}
          rowKey={(row) => row.name}
          rows={entries.data.data}
          onRowClick={setOpen}
          empty={props.empty}
          columns={[
            { label: 'Name', value: (row) => row.name },
            { label: 'Type', value: (row) => (typeof row.type === 'string' ? row.type : '–') },
            { label: 'Settings', value: (row) => summary(row) || '–' },
            { label: 'Source', value: (row) => row.source },
            { label: 'Version', value: (row) => (row.version === null ? '–' : String(row.version)), numeric: true },
          ]}
        />
      ) : null}
      {open ? <Versions plural={props.plural} noun={props.noun} entry={open} onClose={() => setOpen(null)} /> : null}
    </>
  );
}
