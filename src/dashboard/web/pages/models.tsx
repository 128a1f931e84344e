/** Models page. */
import { PageHeader } from '../components/ui.tsx';

export function ModelsPage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Models" />
    </section>
  );
}
