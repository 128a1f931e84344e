/** Workflows: the workflows in force and their versions where the gateway has them; otherwise it says they are not built. */
import { PageHeader } from '../components/ui.tsx';
import { VersionedResource } from '../components/versioned-resource.tsx';

export function WorkflowsPage() {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Workflows" />
      <VersionedResource
        plural="workflows"
        noun="Workflows"
        summaryFields={['match', 'models', 'steps', 'guardrails', 'cache']}
        empty="No workflow is configured."
        notBuilt="This gateway has no workflows API (/admin/api/v1/workflows), so there is nothing to show here yet. Routing (aliases, virtual models, fallbacks) is on the Models page; guardrails are on the Guardrails page."
        testId="workflows-table"
      />
    </section>
  );
}
