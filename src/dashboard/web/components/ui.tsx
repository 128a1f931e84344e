/** Small building blocks of the pages: cards, tables, bars, notices, drawer, page header. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { change, formatPercent } from '../format.ts';

export function PageHeader(props: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1 id="page-title" tabIndex={-1}>
        {props.title}
      </h1>
      {props.children ? <div class="page-actions">{props.children}</div> : null}
    </header>
  );
}

export function StatCard(props: {
  label: string;
  value: string;
  current?: number | null | undefined;
  previous?: number | null | undefined;
  previousText?: string;
  /** Whether a rise is bad (errors, latency, cost): colours the change. */
  riseIsBad?: boolean;
  testId?: string;
}) {
  const delta = change(props.current, props.previous);
  const tone = delta === null || delta === 0 ? 'flat' : delta > 0 === !props.riseIsBad ? 'good' : 'bad';
  return (
    <div class="card stat" data-testid={props.testId}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value" data-value>
        {props.value}
      </div>
      {props.previousText !== undefined ? (
        <div class="stat-previous">
          <span>previous {props.previousText}</span>
          {delta !== null ? <span class={`delta ${tone}`}>{`${delta > 0 ? '+' : ''}${formatPercent(delta)}`}</span> : null}
        </div>
      ) : null}
    </div>
  );
}

export interface Column<Row> {
  label: string;
  value: (row: Row) => ComponentChildren;
  numeric?: boolean;
}

export function DataTable<Row>(props: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  empty?: string;
  rowKey: (row: Row, index: number) => string;
  onRowClick?: (row: Row) => void;
  testId?: string;
}) {
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col" class={column.numeric ? 'numeric' : undefined} key={column.label}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} class="empty">
                {props.empty ?? 'Nothing to show.'}
              </td>
            </tr>
          ) : (
            props.rows.map((row, index) => (
              <tr key={props.rowKey(row, index)} class={props.onRowClick ? 'clickable' : undefined}>
                {props.columns.map((column, columnIndex) => (
                  <td class={column.numeric ? 'numeric' : undefined} key={column.label}>
                    {columnIndex === 0 && props.onRowClick ? (
                      <button type="button" class="link" onClick={() => props.onRowClick?.(row)}>
                        {column.value(row)}
                      </button>
                    ) : (
                      column.value(row)
                    )}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A usage bar: `used` of `limit`, red past 90 %. */
export function UsageBar(props: { used: number; limit: number; label: string; text: string; neutral?: boolean }) {
  const ratio = props.limit > 0 ? Math.min(1, props.used / props.limit) : 0;
  const level = props.neutral ? 'neutral' : ratio >= 0.9 ? 'high' : ratio >= 0.7 ? 'mid' : 'low';
  return (
    <div class="usage-bar">
      <div class="usage-bar-label">
        <span>{props.label}</span>
        <span>{props.text}</span>
      </div>
      <progress class={`bar ${level}`} max={1000} value={Math.round(ratio * 1000)} aria-label={`${props.label}: ${props.text}`} />
    </div>
  );
}

export function Notice(props: { kind?: 'info' | 'error' | 'warn'; children: ComponentChildren }) {
  return (
    <div class={`notice ${props.kind ?? 'info'}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function Loading(props: { error?: Error | undefined; loading: boolean; hasData: boolean }) {
  if (props.error) return <Notice kind="error">Could not load: {props.error.message}</Notice>;
  if (props.loading && !props.hasData) return <p class="muted">Loading…</p>;
  return null;
}

/** A side panel over the page: focus moves into it, Escape or the close button closes it. */
export function Drawer(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef(props.onClose);
  close.current = props.onClose;
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    panel.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') close.current();
    };
    addEventListener('keydown', onKey);
    return () => {
      removeEventListener('keydown', onKey);
      previous?.focus?.();
    };
  }, []);
  return (
    <div class="drawer-backdrop">
      <div class="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title" tabIndex={-1} ref={panel}>
        <div class="drawer-header">
          <h2 id="drawer-title">{props.title}</h2>
          <button type="button" class="button" onClick={props.onClose}>
            Close
          </button>
        </div>
        <div class="drawer-body">{props.children}</div>
      </div>
    </div>
  );
}

export function Pretty(props: { value: unknown; label: string }) {
  let text: string;
  if (typeof props.value === 'string') {
    try {
      text = JSON.stringify(JSON.parse(props.value), null, 2);
    } catch {
      text = props.value;
    }
  } else text = JSON.stringify(props.value, null, 2) ?? 'null';
  return (
    // A scrollable block must take the keyboard focus, or its overflow cannot be read without a mouse.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable region (WCAG 2.1.1)
    <pre class="code" tabIndex={0} title={props.label}>
      {text}
    </pre>
  );
}

export function NotBuilt(props: { feature: string; children?: ComponentChildren }) {
  return (
    <Notice kind="info">
      <strong>{props.feature} is not built yet.</strong> {props.children}
    </Notice>
  );
}
