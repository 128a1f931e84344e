/** Logs page. */
import { PageHeader } from '../components/ui.tsx';

export function LogsPage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Logs" />
    </section>
  );
}
