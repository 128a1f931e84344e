/** Guardrails: the guardrails in force (config and admin), each one's definition and stored versions. */
import { PageHeader } from '../components/ui.tsx';
import { VersionedResource } from '../components/versioned-resource.tsx';

export function GuardrailsPage() {
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Guardrails" />
      <p class="muted">
        Guardrails check requests before they go upstream and answers before they reach the client. They are changed through the admin API
        (/admin/api/v1/guardrails) or config.yaml; each stored change is a new version.
      </p>
      <VersionedResource
        plural="guardrails"
        noun="Guardrails"
        summaryFields={['mode', 'stage', 'action', 'on', 'applies_to']}
        empty="No guardrail is in force (GUARDRAILS_ENABLED and the guardrails: section of config.yaml, or the admin API)."
        notBuilt="This gateway has no guardrails API."
        testId="guardrails-table"
      />
    </section>
  );
}
