/** Providers page. */
import { PageHeader } from '../components/ui.tsx';

export function ProvidersPage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Providers" />
    </section>
  );
}
