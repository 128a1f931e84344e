/** Client-side routes under /admin/dashboard (the server answers index.html for every page path). */
import { useEffect, useState } from 'preact/hooks';

export const basePath = '/admin/dashboard';

export interface PageInfo {
  path: string;
  title: string;
}

export const pages: PageInfo[] = [
  { path: '', title: 'Overview' },
  { path: 'usage', title: 'Usage' },
  { path: 'logs', title: 'Logs' },
  { path: 'keys', title: 'Keys' },
  { path: 'providers', title: 'Providers' },
  { path: 'models', title: 'Models' },
  { path: 'cache', title: 'Cache' },
  { path: 'guardrails', title: 'Guardrails' },
  { path: 'workflows', title: 'Workflows' },
];

export function currentPage(): string {
  const path = location.pathname.startsWith(basePath) ? location.pathname.slice(basePath.length) : '';
  return path.replace(/^\/+|\/+$/g, '').split('/')[0] ?? '';
}

export function navigate(page: string): void {
  const target = page ? `${basePath}/${page}` : basePath;
  if (location.pathname !== target) history.pushState(null, '', target);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePage(): string {
  const [page, setPage] = useState(currentPage);
  useEffect(() => {
    const update = () => setPage(currentPage());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return page;
}
