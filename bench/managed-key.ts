/** The managed key of `--modelgate-managed-key`, created through the admin API of a ready Modelgate target. */
import { benchMasterKey } from './target-definitions.ts';

/**
 * Creates a managed key with a rate limit and a daily budget, both far above what a bench run spends (so
 * every call is checked, reserved and settled, none refused), and returns its secret.
 */
export async function createManagedBenchKey(url: string): Promise<string> {
  const admin = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${url}/admin/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${benchMasterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 201) throw new Error(`bench: POST ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const key = await admin('/keys', { name: 'bench managed key', rate_limits: { requests_per_minute: 100_000_000 } });
  await admin('/budgets', { scope: 'key', subject: key.id, limit_usd: 1_000_000, period: 'daily' });
  return key.key as string;
}
