/** Usage page. */
import { PageHeader } from '../components/ui.tsx';

export function UsagePage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Usage" />
    </section>
  );
}
