/** Keys: managed keys (create and show the secret once, rotate, deactivate, revoke), their limits and budgets. */
import { useState } from 'preact/hooks';
import { useAdminAction } from '../admin-action.ts';
import { actionsColumn } from '../components/admin-controls.tsx';
import { BudgetsPanel } from '../components/budgets-panel.tsx';
import { type KeyDraft, KeyForm } from '../components/key-form.tsx';
import { KeyLimits } from '../components/key-limits.tsx';
import { DataTable, Loading, Notice, PageHeader } from '../components/ui.tsx';
import { useDashboard } from '../context.ts';
import { formatTime } from '../format.ts';
import type { Budget, ManagedKey } from '../governance-types.ts';
import { useResource } from '../hooks.ts';

interface KeyUsage {
  group: string | null;
  requests: number;
  total_tokens: number;
}

function SecretPanel(props: { secret: string; title: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section class="card panel secret-panel" aria-labelledby="secret-title" data-testid="new-secret">
      <h2 id="secret-title" class="card-title">
        {props.title}
      </h2>
      <p>Copy this secret now: it is shown only once and cannot be read again.</p>
      <div class="secret" data-testid="secret-value">
        {props.secret}
      </div>
      <div class="form-actions">
        <button
          type="button"
          class="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(props.secret);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" class="button primary" onClick={props.onDone}>
          Done, hide it
        </button>
      </div>
    </section>
  );
}

export function KeysPage() {
  const { api, session } = useDashboard();
  const [showRevoked, setShowRevoked] = useState(false);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ value: string; title: string } | null>(null);
  const keys = useResource(
    () => api.get<{ data: ManagedKey[] }>('/keys', { include_revoked: showRevoked ? 'true' : undefined }),
    [api, showRevoked],
  );
  const usage = useResource(() => api.get<{ data: KeyUsage[] }>('/usage/groups', { by: 'key', days: 1 }), [api]);
  const budgets = useResource(() => api.get<{ data: Budget[] }>('/budgets'), [api]);
  const writable = !session.read_only;
  const usageOf = (id: string) => usage.data?.data.find((row) => row.group === id);
  const budgetsOf = (id: string) =>
    budgets.data?.data.filter((budget) => budget.scope === 'key' && budget.subject === id && budget.spent_usd !== null) ?? [];

  const act = useAdminAction(keys.reload);
  const create = async (draft: KeyDraft) => {
    const body: Record<string, unknown> = { ...draft };
    if (Object.keys(draft.rate_limits).length === 0) delete body.rate_limits;
    if (draft.expires_at === null) delete body.expires_at;
    const created = await api.send<ManagedKey & { key: string }>('POST', '/keys', body);
    setCreating(false);
    setSecret({ value: created.key, title: `Key ${created.name ?? created.id} created` });
    keys.reload();
  };
  const rotate = (key: ManagedKey) => {
    if (!confirm(`Rotate ${key.name ?? key.id}? The current secret stops working at once.`)) return;
    void act('Key rotated', async () => {
      const rotated = await api.send<ManagedKey & { key: string }>('POST', `/keys/${encodeURIComponent(key.id)}/rotate`);
      setSecret({ value: rotated.key, title: `New secret of ${rotated.name ?? rotated.id}` });
    });
  };
  const revoke = (key: ManagedKey) => {
    if (!confirm(`Revoke ${key.name ?? key.id}? It is refused from now on; this cannot be undone.`)) return;
    void act('Key revoked', () => api.send('DELETE', `/keys/${encodeURIComponent(key.id)}`));
  };
  const setActive = (key: ManagedKey, active: boolean) =>
    act(active ? 'Key activated' : 'Key deactivated', () => api.send('POST', `/keys/${encodeURIComponent(key.id)}`, { active }));

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Keys">
        <label class="inline">
          <input type="checkbox" checked={showRevoked} onChange={(event) => setShowRevoked((event.target as HTMLInputElement).checked)} />{' '}
          Show revoked
        </label>
        {writable && !creating ? (
          <button type="button" class="button primary" onClick={() => setCreating(true)}>
            New key
          </button>
        ) : null}
      </PageHeader>
      {secret ? <SecretPanel secret={secret.value} title={secret.title} onDone={() => setSecret(null)} /> : null}
      {creating ? <KeyForm onSubmit={create} onCancel={() => setCreating(false)} /> : null}
      <Loading error={keys.error} loading={keys.loading} hasData={keys.data !== undefined} />
      {keys.error && (keys.error as { status?: number }).status === 404 ? (
        <Notice>Managed keys are not available on this gateway.</Notice>
      ) : null}
      {keys.data ? (
        <DataTable
          caption="Managed keys"
          testId="keys-table"
          rowKey={(row) => row.id}
          rows={keys.data.data}
          empty="No managed key yet."
          columns={[
            { label: 'Name', value: (row) => row.name ?? '(unnamed)' },
            { label: 'Key', value: (row) => <code>{row.key_hint}</code> },
            { label: 'Status', value: (row) => <span class={`badge ${row.status === 'active' ? 'ok' : 'bad'}`}>{row.status}</span> },
            { label: 'Scopes', value: (row) => row.scopes.join(', ') },
            { label: 'Owner', value: (row) => [row.user, row.team].filter(Boolean).join(' / ') || '–' },
            {
              label: 'Today, limits and budgets',
              value: (row) =>
                row.status === 'revoked' ? (
                  <span class="muted small">–</span>
                ) : (
                  <KeyLimits keyEntry={row} usage={usageOf(row.id)} budgets={budgetsOf(row.id)} versions={[keys.data, budgets.data]} />
                ),
            },
            { label: 'Created', value: (row) => formatTime(row.created_at) },
            ...actionsColumn(writable, (row: ManagedKey) =>
              row.status === 'revoked' ? (
                <span class="muted small">revoked {formatTime(row.revoked_at)}</span>
              ) : (
                <div class="row-actions">
                  <button type="button" class="button" onClick={() => rotate(row)} aria-label={`Rotate ${row.name ?? row.id}`}>
                    Rotate
                  </button>
                  <button
                    type="button"
                    class="button"
                    onClick={() => setActive(row, !row.active)}
                    aria-label={`${row.active ? 'Deactivate' : 'Activate'} ${row.name ?? row.id}`}
                  >
                    {row.active ? 'Deactivate' : 'Activate'}
                  </button>
                  <button type="button" class="button danger" onClick={() => revoke(row)} aria-label={`Revoke ${row.name ?? row.id}`}>
                    Revoke
                  </button>
                </div>
              ),
            ),
          ]}
        />
      ) : null}
      <BudgetsPanel budgets={budgets} keys={keys.data?.data ?? []} />
    </section>
  );
}
