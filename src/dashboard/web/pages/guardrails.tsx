/** Guardrails page. */
import { PageHeader } from '../components/ui.tsx';

export function GuardrailsPage(_props: { theme?: string }) {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Guardrails" />
    </section>
  );
}
