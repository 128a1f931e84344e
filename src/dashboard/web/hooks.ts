/** Data loading that follows the live-refresh tick and keeps what it showed while it loads again. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useDashboard } from './context.ts';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

export function useResource<T>(load: () => Promise<T>, dependencies: unknown[]): Resource<T> {
  const { tick } = useDashboard();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [manual, setManual] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (mine !== generation.current) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
        setLoading(false);
      },
    );
  }, [...dependencies, tick, manual]);
  const reload = useCallback(() => setManual((value) => value + 1), []);
  return { data, error, loading, reload };
}
