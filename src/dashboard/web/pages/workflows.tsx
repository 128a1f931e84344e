/** Workflows: not built in Modelgate yet; the page says so instead of failing. */
import { NotBuilt, PageHeader } from '../components/ui.tsx';

export function WorkflowsPage() {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Workflows" />
      <NotBuilt feature="Workflows">
        Modelgate has no workflow engine yet, so there is nothing to show or edit here. Routing (aliases, virtual models, fallbacks) is on
        the Models page; guardrails are on the Guardrails page.
      </NotBuilt>
    </section>
  );
}
