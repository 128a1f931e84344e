/** Models: aliases, virtual models and model overrides (view and edit), fallback lists (view). */
import { useState } from 'preact/hooks';
import { useAdminAction } from '../admin-action.ts';
import { actionsColumn, DeleteButton, FormError } from '../components/admin-controls.tsx';
import { DataTable, Loading, PageHeader } from '../components/ui.tsx';
import { type VirtualModel, VirtualModelEditor } from '../components/virtual-model-editor.tsx';
import { useDashboard } from '../context.ts';
import { useResource } from '../hooks.ts';

interface Alias {
  name: string;
  target: string;
  source: 'config' | 'admin';
}

interface Override {
  provider: string;
  model: string;
  enabled: boolean;
  source: 'config' | 'admin';
}

interface Fallback {
  model: string;
  fallbacks: string[];
  source: 'config' | 'admin';
}

function AliasesSection() {
  const { api, session, notify } = useDashboard();
  const aliases = useResource(() => api.get<{ data: Alias[] }>('/aliases'), [api]);
  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<string | null>(null);
  const writable = !session.read_only;
  const run = useAdminAction(aliases.reload);
  return (
    <section aria-labelledby="aliases-title">
      <h2 id="aliases-title">Aliases</h2>
      <Loading error={aliases.error} loading={aliases.loading} hasData={aliases.data !== undefined} />
      {writable ? (
        <form
          class="filters"
          aria-label="Add an alias"
          onSubmit={async (event) => {
            event.preventDefault();
            setError(null);
            try {
              await api.send('POST', '/aliases', { name: name.trim(), target: target.trim() });
              notify(`Alias ${name.trim()} saved`);
              setName('');
              setTarget('');
              aliases.reload();
            } catch (failure) {
              setError((failure as Error).message);
            }
          }}
        >
          <label class="field">
            Alias name
            <input name="alias-name" value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} required />
          </label>
          <label class="field">
            Target model
            <input
              name="alias-target"
              value={target}
              onInput={(event) => setTarget((event.target as HTMLInputElement).value)}
              placeholder="openai/gpt-4o-mini"
              required
            />
          </label>
          <button type="submit" class="button">
            Save alias
          </button>
          <FormError error={error} />
        </form>
      ) : null}
      <DataTable
        caption="Aliases"
        testId="aliases-table"
        rowKey={(row) => `${row.source}/${row.name}`}
        rows={aliases.data?.data ?? []}
        empty="No alias."
        columns={[
          { label: 'Alias', value: (row) => row.name },
          { label: 'Target', value: (row) => row.target },
          { label: 'Source', value: (row) => row.source },
          ...actionsColumn(writable, (row: Alias) => (
            <div class="row-actions">
              <button
                type="button"
                class="button"
                aria-label={`Change the target of ${row.name}`}
                onClick={() => {
                  const next = prompt(`New target of ${row.name}`, row.target);
                  if (next?.trim())
                    void run(`Alias ${row.name} changed`, () =>
                      api.send('PUT', `/aliases/${encodeURIComponent(row.name)}`, { target: next.trim() }),
                    );
                }}
              >
                Edit
              </button>
              {row.source === 'admin' ? (
                <DeleteButton
                  label={`Delete alias ${row.name}`}
                  confirmText={`Delete alias ${row.name}?`}
                  onDelete={() => run(`Alias ${row.name} deleted`, () => api.send('DELETE', `/aliases/${encodeURIComponent(row.name)}`))}
                />
              ) : null}
            </div>
          )),
        ]}
      />
    </section>
  );
}

function OverridesSection() {
  const { api, session, notify } = useDashboard();
  const overrides = useResource(() => api.get<{ data: Override[] }>('/model-overrides'), [api]);
  const providers = useResource(() => api.get<{ data: { name: string }[] }>('/providers/status'), [api]);
  const [provider, setProvider] = useState('');
  const [model, setModel] = useState('');
  const [enabled, setEnabled] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const writable = !session.read_only;
  const act = useAdminAction(overrides.reload);
  const save = async (entry: { provider: string; model: string; enabled: boolean }) => {
    await api.send('PUT', '/model-overrides', entry);
    notify(`${entry.provider}/${entry.model} ${entry.enabled ? 'enabled' : 'disabled'}`);
    overrides.reload();
  };
  return (
    <section aria-labelledby="overrides-title">
      <h2 id="overrides-title">Model overrides</h2>
      <p class="muted small">
        Switch single models (or every model of a provider, model “*”) on or off; a disabled model answers 403 model_disabled.
      </p>
      <Loading error={overrides.error} loading={overrides.loading} hasData={overrides.data !== undefined} />
      {writable ? (
        <form
          class="filters"
          aria-label="Add a model override"
          onSubmit={async (event) => {
            event.preventDefault();
            setError(null);
            try {
              await save({ provider: provider || (providers.data?.data[0]?.name ?? ''), model: model.trim(), enabled });
              setModel('');
            } catch (failure) {
              setError((failure as Error).message);
            }
          }}
        >
          <label class="field">
            Provider
            <select value={provider} onChange={(event) => setProvider((event.target as HTMLSelectElement).value)}>
              {(providers.data?.data ?? []).map((entry) => (
                <option key={entry.name} value={entry.name}>
                  {entry.name}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            Model
            <input
              name="override-model"
              value={model}
              onInput={(event) => setModel((event.target as HTMLInputElement).value)}
              placeholder="gpt-4o or *"
              required
            />
          </label>
          <label class="inline">
            <input type="checkbox" checked={enabled} onChange={(event) => setEnabled((event.target as HTMLInputElement).checked)} /> Enabled
          </label>
          <button type="submit" class="button">
            Save override
          </button>
          <FormError error={error} />
        </form>
      ) : null}
      <DataTable
        caption="Model overrides"
        testId="overrides-table"
        rowKey={(row) => `${row.source}/${row.provider}/${row.model}`}
        rows={overrides.data?.data ?? []}
        empty="No override: every model follows MODELS_ENABLED_BY_DEFAULT."
        columns={[
          { label: 'Provider', value: (row) => row.provider },
          { label: 'Model', value: (row) => row.model },
          {
            label: 'State',
            value: (row) => <span class={`badge ${row.enabled ? 'ok' : 'bad'}`}>{row.enabled ? 'enabled' : 'disabled'}</span>,
          },
          { label: 'Source', value: (row) => row.source },
          ...actionsColumn(writable, (row: Override) => (
            <div class="row-actions">
              <button
                type="button"
                class="button"
                onClick={() =>
                  save({ provider: row.provider, model: row.model, enabled: !row.enabled }).catch((failure) =>
                    notify((failure as Error).message, 'error'),
                  )
                }
              >
                {row.enabled ? 'Disable' : 'Enable'}
              </button>
              {row.source === 'admin' ? (
                <DeleteButton
                  label={`Delete override ${row.provider}/${row.model}`}
                  onDelete={() =>
                    act(
                      'Override deleted',
                      () =>
                        api.send(
                          'DELETE',
                          `/model-overrides?provider=${encodeURIComponent(row.provider)}&model=${encodeURIComponent(row.model)}`,
                        ),
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

function FallbacksSection() {
  const { api } = useDashboard();
  const fallbacks = useResource(() => api.get<{ data: Fallback[] }>('/fallbacks'), [api]);
  return (
    <section aria-labelledby="fallbacks-title">
      <h2 id="fallbacks-title">Fallbacks</h2>
      <Loading error={fallbacks.error} loading={fallbacks.loading} hasData={fallbacks.data !== undefined} />
      <DataTable
        caption="Fallback lists"
        rowKey={(row) => `${row.source}/${row.model}`}
        rows={fallbacks.data?.data ?? []}
        empty="No fallback list."
        columns={[
          { label: 'Model', value: (row) => row.model },
          { label: 'Falls back to', value: (row) => row.fallbacks.join(' → ') },
          { label: 'Source', value: (row) => row.source },
        ]}
      />
    </section>
  );
}

export function ModelsPage() {
  const { api } = useDashboard();
  const virtualModels = useResource(() => api.get<{ data: VirtualModel[] }>('/virtual-models'), [api]);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Models" />
      <AliasesSection />
      <VirtualModelEditor resource={virtualModels} />
      <OverridesSection />
      <FallbacksSection />
    </section>
  );
}
