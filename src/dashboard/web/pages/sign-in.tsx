/** Sign-in: the master key or a managed key with the admin or admin:read scope. */
import { useState } from 'preact/hooks';
import { resolveSession, type SignedIn } from '../session.ts';

export function SignInPage(props: {
  message: string | null;
  theme: string;
  onToggleTheme: () => void;
  onSignedIn: (signedIn: SignedIn, key: string) => void;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter a key.');
      return;
    }
    setBusy(true);
    const result = await resolveSession(trimmed);
    setBusy(false);
    if (result.ok) props.onSignedIn(result.signedIn, trimmed);
    else setError(result.message);
  };
  const shown = error ?? props.message;
  return (
    <main id="main" class="sign-in">
      <form class="card sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Modelgate dashboard</h1>
        <p class="muted">Sign in with the master key (MODELGATE_MASTER_KEY) or a managed key with the admin or admin:read scope.</p>
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="admin-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
          aria-describedby={shown ? 'sign-in-error' : undefined}
        />
        {shown ? (
          <p id="sign-in-error" class="form-error" role="alert">
            {shown}
          </p>
        ) : null}
        <div class="form-actions">
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <button type="button" class="button" onClick={props.onToggleTheme}>
            {props.theme === 'dark' ? 'Light theme' : 'Dark theme'}
          </button>
        </div>
        <p class="muted small">The key stays in this tab's session storage until you sign out or close the tab.</p>
      </form>
    </main>
  );
}
