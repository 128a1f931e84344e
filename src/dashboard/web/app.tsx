/** The dashboard shell: sign-in, navigation, theme, live refresh, and the current page. */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import { Dashboard, type DashboardContext } from './context.ts';
import { CachePage } from './pages/cache.tsx';
import { GuardrailsPage } from './pages/guardrails.tsx';
import { KeysPage } from './pages/keys.tsx';
import { LogsPage } from './pages/logs.tsx';
import { ModelsPage } from './pages/models.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { ProvidersPage } from './pages/providers.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { UsagePage } from './pages/usage.tsx';
import { WorkflowsPage } from './pages/workflows.tsx';
import { basePath, navigate, pages, usePage } from './router.ts';
import { resolveSession, type SignedIn, storedKey, storeKey } from './session.ts';
import { useTheme } from './theme.ts';

const refreshChoices = [5, 10, 30, 60];

function PageView(props: { page: string; theme: string }) {
  switch (props.page) {
    case '':
      return <OverviewPage theme={props.theme} />;
    case 'usage':
      return <UsagePage theme={props.theme} />;
    case 'logs':
      return <LogsPage />;
    case 'keys':
      return <KeysPage />;
    case 'providers':
      return <ProvidersPage />;
    case 'models':
      return <ModelsPage />;
    case 'cache':
      return <CachePage />;
    case 'guardrails':
      return <GuardrailsPage />;
    case 'workflows':
      return <WorkflowsPage />;
    default:
      return (
        <section>
          <h1 id="page-title" tabIndex={-1}>
            Page not found
          </h1>
          <p>
            There is no dashboard page here. <a href={basePath}>Go to the overview</a>.
          </p>
        </section>
      );
  }
}

export function App() {
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [checking, setChecking] = useState(true);
  const [signInMessage, setSignInMessage] = useState<string | null>(null);
  const [theme, toggleTheme] = useTheme();
  const [live, setLive] = useState(true);
  const [interval, setIntervalSeconds] = useState(10);
  const [tick, setTick] = useState(0);
  const [toast, setToast] = useState<{ message: string; kind: 'ok' | 'error' } | null>(null);
  const page = usePage();

  const signOut = useCallback((message: string | null = null) => {
    storeKey(null);
    setSignedIn(null);
    setSignInMessage(message);
  }, []);

  useEffect(() => {
    const key = storedKey();
    resolveSession(key).then((result) => {
      if (result.ok) setSignedIn(result.signedIn);
      else if (key) {
        storeKey(null);
        setSignInMessage(result.message);
      }
      setChecking(false);
    });
  }, []);

  useEffect(() => {
    if (!live || !signedIn) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((value) => value + 1);
    }, interval * 1000);
    return () => clearInterval(timer);
  }, [live, interval, signedIn]);

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(timer);
  }, [toast]);

  const context = useMemo<DashboardContext | null>(() => {
    if (!signedIn) return null;
    return {
      api: createApi(signedIn.key, () => signOut('Your session ended (the key was refused). Sign in again.')),
      session: signedIn.session,
      tick,
      notify: (message, kind = 'ok') => setToast({ message, kind }),
    };
  }, [signedIn, tick, signOut]);

  useEffect(() => {
    const title = pages.find((entry) => entry.path === page)?.title ?? 'Not found';
    document.title = `${title} · Modelgate`;
  }, [page]);

  if (checking) return <p class="boot">Loading…</p>;
  if (!context || !signedIn) {
    return (
      <SignInPage
        message={signInMessage}
        theme={theme}
        onToggleTheme={toggleTheme}
        onSignedIn={(value, key) => {
          storeKey(key);
          setSignInMessage(null);
          setSignedIn(value);
        }}
      />
    );
  }
  const { session } = signedIn;
  const who =
    session.kind === 'open'
      ? 'no master key set'
      : session.kind === 'master'
        ? 'master key'
        : (session.name ?? session.key_id ?? 'managed key');
  return (
    <Dashboard.Provider value={context}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="layout">
        <header class="topbar">
          <a
            class="brand"
            href={basePath}
            onClick={(event) => {
              event.preventDefault();
              navigate('');
            }}
          >
            Modelgate
          </a>
          <div class="topbar-controls">
            <span class="who" data-testid="session">
              {who}
              {session.read_only ? <span class="badge">read-only</span> : null}
            </span>
            <label class="inline">
              <input type="checkbox" checked={live} onChange={(event) => setLive((event.target as HTMLInputElement).checked)} /> Live
            </label>
            <label class="inline">
              <span class="visually-hidden">Refresh every</span>
              <select
                value={String(interval)}
                onChange={(event) => setIntervalSeconds(Number((event.target as HTMLSelectElement).value))}
                disabled={!live}
              >
                {refreshChoices.map((seconds) => (
                  <option value={String(seconds)} key={seconds}>
                    {seconds} s
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              class="button"
              onClick={toggleTheme}
              aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
            >
              {theme === 'dark' ? 'Light' : 'Dark'}
            </button>
            {session.kind !== 'open' ? (
              <button type="button" class="button" onClick={() => signOut(null)}>
                Sign out
              </button>
            ) : null}
          </div>
        </header>
        <nav class="sidebar" aria-label="Dashboard pages">
          <ul>
            {pages.map((entry) => (
              <li key={entry.path}>
                <a
                  href={entry.path ? `${basePath}/${entry.path}` : basePath}
                  aria-current={entry.path === page ? 'page' : undefined}
                  onClick={(event) => {
                    event.preventDefault();
                    navigate(entry.path);
                    document.getElementById('main')?.focus();
                  }}
                >
                  {entry.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <PageView page={page} theme={theme} />
        </main>
      </div>
      <div class="toast-region" aria-live="polite">
        {toast ? <div class={`toast ${toast.kind}`}>{toast.message}</div> : null}
      </div>
    </Dashboard.Provider>
  );
}
