/** What a writable session sees beside the data: a form's error, the Actions column and its Delete button. */
import type { ComponentChildren } from 'preact';
import type { Column } from './ui.tsx';

/** The error of a form (read out when it appears), or nothing. */
export function FormError(props: { error: string | null }) {
  return props.error ? (
    <p class="form-error" role="alert">
      {props.error}
    </p>
  ) : null;
}

/** A table's Actions column: there for a writable session, absent for a read-only one. */
export function actionsColumn<Row>(writable: boolean, value: (row: Row) => ComponentChildren): Column<Row>[] {
  return writable ? [{ label: 'Actions', value }] : [];
}

/** A danger button labelled Delete that, after `confirmText` is confirmed (when given), calls `onDelete`. */
export function DeleteButton(props: { label: string; confirmText?: string; onDelete: () => unknown }) {
  return (
    <button
      type="button"
      class="button danger"
      aria-label={props.label}
      onClick={() => {
        if (props.confirmText === undefined || confirm(props.confirmText)) void props.onDelete();
      }}
    >
      Delete
    </button>
  );
}
