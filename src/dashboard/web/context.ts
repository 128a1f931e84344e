/** What every page needs: the API client, the session (read-only or not) and the live-refresh tick. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.ts';
import type { Session } from './session.ts';

export interface DashboardContext {
  api: Api;
  session: Session;
  /** Advances every refresh interval while live refresh is on: pages fetch again without reloading. */
  tick: number;
  /** Tells the user something happened (saved, revoked, failed). */
  notify(message: string, kind?: 'ok' | 'error'): void;
}

export const Dashboard = createContext<DashboardContext | null>(null);

export function useDashboard(): DashboardContext {
  const context = useContext(Dashboard);
  if (!context) throw new Error('useDashboard outside the app');
  return context;
}
