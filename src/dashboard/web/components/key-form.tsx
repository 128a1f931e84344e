/** The form that creates a managed key (name, scopes, owner, model lists, expiry, rate limits). */
import { useState } from 'preact/hooks';
import { listOf, type RateLimits } from '../governance-types.ts';
import { FormError } from './admin-controls.tsx';

export interface KeyDraft {
  name: string | null;
  scopes: string[];
  user: string | null;
  team: string | null;
  tags: string[];
  allowed_models: string[];
  denied_models: string[];
  expires_at: string | null;
  rate_limits: RateLimits;
}

const scopeChoices = [
  { value: 'inference', label: 'inference (model calls)' },
  { value: 'admin:read', label: 'admin:read (read the admin API)' },
  { value: 'admin', label: 'admin (whole admin API)' },
];

const limitFields: { key: keyof RateLimits; label: string }[] = [
  { key: 'requests_per_minute', label: 'Requests / minute' },
  { key: 'requests_per_day', label: 'Requests / day' },
  { key: 'tokens_per_minute', label: 'Tokens / minute' },
  { key: 'tokens_per_day', label: 'Tokens / day' },
  { key: 'concurrent', label: 'Concurrent' },
];

export function KeyForm(props: { onSubmit: (draft: KeyDraft) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['inference']);
  const [user, setUser] = useState('');
  const [team, setTeam] = useState('');
  const [tags, setTags] = useState('');
  const [allowed, setAllowed] = useState('');
  const [denied, setDenied] = useState('');
  const [expires, setExpires] = useState('');
  const [limits, setLimits] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const text = (setter: (value: string) => void) => (event: Event) => setter((event.target as HTMLInputElement).value);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (scopes.length === 0) {
      setError('Choose at least one scope.');
      return;
    }
    const rateLimits: RateLimits = {};
    for (const field of limitFields) {
      const value = limits[field.key]?.trim();
      if (!value) continue;
      const number = Number(value);
      if (!Number.isInteger(number) || number <= 0) {
        setError(`${field.label} must be a positive whole number.`);
        return;
      }
      rateLimits[field.key] = number;
    }
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit({
        name: name.trim() || null,
        scopes,
        user: user.trim() || null,
        team: team.trim() || null,
        tags: listOf(tags),
        allowed_models: listOf(allowed),
        denied_models: listOf(denied),
        expires_at: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null,
        rate_limits: rateLimits,
      });
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card panel" onSubmit={submit} aria-labelledby="new-key-title">
      <h2 id="new-key-title" class="card-title">
        New key
      </h2>
      <div class="form-grid">
        <label class="field">
          Name
          <input name="key-name" value={name} onInput={text(setName)} maxLength={255} />
        </label>
        <label class="field">
          User
          <input name="key-user" value={user} onInput={text(setUser)} maxLength={255} />
        </label>
        <label class="field">
          Team
          <input name="key-team" value={team} onInput={text(setTeam)} maxLength={255} />
        </label>
        <label class="field">
          Tags (comma separated)
          <input name="key-tags" value={tags} onInput={text(setTags)} />
        </label>
        <label class="field">
          Allowed models (empty: all)
          <input name="key-allowed" value={allowed} onInput={text(setAllowed)} placeholder="gpt-4o-mini, openai/*" />
        </label>
        <label class="field">
          Denied models
          <input name="key-denied" value={denied} onInput={text(setDenied)} />
        </label>
        <label class="field">
          Expires (UTC day, empty: never)
          <input name="key-expires" type="date" value={expires} onInput={text(setExpires)} />
        </label>
      </div>
      <fieldset class="scopes">
        <legend>Scopes</legend>
        {scopeChoices.map((choice) => (
          <label class="inline" key={choice.value}>
            <input
              type="checkbox"
              checked={scopes.includes(choice.value)}
              onChange={(event) => {
                const checked = (event.target as HTMLInputElement).checked;
                setScopes((current) => (checked ? [...current, choice.value] : current.filter((scope) => scope !== choice.value)));
              }}
            />{' '}
            {choice.label}
          </label>
        ))}
      </fieldset>
      <fieldset class="scopes">
        <legend>Rate limits (empty: the configured per-key limits)</legend>
        <div class="form-grid">
          {limitFields.map((field) => (
            <label class="field" key={field.key}>
              {field.label}
              <input
                inputMode="numeric"
                value={limits[field.key] ?? ''}
                onInput={(event) => setLimits((current) => ({ ...current, [field.key]: (event.target as HTMLInputElement).value }))}
              />
            </label>
          ))}
        </div>
      </fieldset>
      <FormError error={error} />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={busy}>
          Create key
        </button>
        <button type="button" class="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
