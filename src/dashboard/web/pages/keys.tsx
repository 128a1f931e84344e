/** Keys page. */
import { PageHeader } from '../components/ui.tsx';

export function KeysPage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Keys" />
    </section>
  );
}
