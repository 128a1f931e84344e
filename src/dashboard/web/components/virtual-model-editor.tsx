/** Virtual models: one name over several targets with a strategy; listed, and edited as JSON. */
import { useState } from 'preact/hooks';
import { useAdminAction } from '../admin-action.ts';
import { useDashboard } from '../context.ts';
import type { Resource } from '../hooks.ts';
import { actionsColumn, DeleteButton, FormError } from './admin-controls.tsx';
import { DataTable, Loading } from './ui.tsx';

export interface VirtualModel {
  name: string;
  strategy: string;
  targets: { model: string; weight?: number; priority?: number }[];
  session_affinity: boolean;
  source: 'config' | 'admin';
}

const example = {
  strategy: 'weighted',
  targets: [
    { model: 'openai/gpt-4o-mini', weight: 3 },
    { model: 'openai/gpt-4o', weight: 1 },
  ],
  session_affinity: false,
};

export function VirtualModelEditor(props: { resource: Resource<{ data: VirtualModel[] }> }) {
  const { api, session, notify } = useDashboard();
  const [editing, setEditing] = useState<{ name: string; definition: string; isNew: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const writable = !session.read_only;
  const { resource } = props;
  const act = useAdminAction(resource.reload);
  const save = async (event: Event) => {
    event.preventDefault();
    if (!editing) return;
    let definition: unknown;
    try {
      definition = JSON.parse(editing.definition);
    } catch (failure) {
      setError(`Not JSON: ${(failure as Error).message}`);
      return;
    }
    try {
      if (editing.isNew) await api.send('POST', '/virtual-models', { ...(definition as object), name: editing.name.trim() });
      else await api.send('PUT', `/virtual-models/${encodeURIComponent(editing.name)}`, definition);
      notify(`Virtual model ${editing.name} saved`);
      setEditing(null);
      setError(null);
      resource.reload();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <section aria-labelledby="virtual-title">
      <h2 id="virtual-title">Virtual models</h2>
      <Loading error={resource.error} loading={resource.loading} hasData={resource.data !== undefined} />
      {writable && !editing ? (
        <button
          type="button"
          class="button"
          onClick={() => setEditing({ name: '', definition: JSON.stringify(example, null, 2), isNew: true })}
        >
          New virtual model
        </button>
      ) : null}
      {editing ? (
        <form class="card panel" onSubmit={save} aria-label="Edit a virtual model">
          <label class="field">
            Name
            <input
              value={editing.name}
              disabled={!editing.isNew}
              onInput={(event) => setEditing({ ...editing, name: (event.target as HTMLInputElement).value })}
              required
            />
          </label>
          <label class="field">
            Definition (strategy: weighted, priority, least-latency, cost or least-busy; targets; session_affinity)
            <textarea
              value={editing.definition}
              onInput={(event) => setEditing({ ...editing, definition: (event.target as HTMLTextAreaElement).value })}
              rows={10}
            />
          </label>
          <FormError error={error} />
          <div class="form-actions">
            <button type="submit" class="button primary">
              Save
            </button>
            <button
              type="button"
              class="button"
              onClick={() => {
                setEditing(null);
                setError(null);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      <DataTable
        caption="Virtual models"
        testId="virtual-models-table"
        rowKey={(row) => `${row.source}/${row.name}`}
        rows={resource.data?.data ?? []}
        empty="No virtual model."
        columns={[
          { label: 'Name', value: (row) => row.name },
          { label: 'Strategy', value: (row) => row.strategy },
          {
            label: 'Targets',
            value: (row) =>
              row.targets
                .map(
                  (target) =>
                    `${target.model}${target.weight !== undefined ? ` ×${target.weight}` : ''}${target.priority !== undefined ? ` (priority ${target.priority})` : ''}`,
                )
                .join(', '),
          },
          { label: 'Session affinity', value: (row) => (row.session_affinity ? 'yes' : 'no') },
          { label: 'Source', value: (row) => row.source },
          ...actionsColumn(writable, (row: VirtualModel) => (
            <div class="row-actions">
              <button
                type="button"
                class="button"
                aria-label={`Edit virtual model ${row.name}`}
                onClick={() =>
                  setEditing({
                    name: row.name,
                    definition: JSON.stringify(
                      { strategy: row.strategy, targets: row.targets, session_affinity: row.session_affinity },
                      null,
                      2,
                    ),
                    isNew: false,
                  })
                }
              >
                Edit
              </button>
              {row.source === 'admin' ? (
                <DeleteButton
                  label={`Delete virtual model ${row.name}`}
                  confirmText={`Delete virtual model ${row.name}?`}
                  onDelete={() =>
                    act(
                      `Virtual model ${row.name} deleted`,
                      () => api.send('DELETE', `/virtual-models/${encodeURIComponent(row.name)}`),
                      'Delete failed',
                    )
                  }
                />
              ) : null}
            </div>
          )),
        ]}
      />
    </section>
  );
}
