/** Cache page. */
import { PageHeader } from '../components/ui.tsx';

export function CachePage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Cache" />
    </section>
  );
}
