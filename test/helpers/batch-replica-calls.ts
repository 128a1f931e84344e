/**
 * Calls the batch replica tests (test/batches-replicas.test.ts, test/batches-translated-replicas.test.ts) make
 * against gateway processes sharing PostgreSQL: the usage rows recorded for a batch, read from the database
 * itself; its results fetched from several replicas at once; the rows the poller records, waited for.
 */
import pg from 'pg';
import { postgresUrl, type StorageBackend } from './storage-backends.ts';

export interface ReplicaUsageRow {
  id: string;
  provider: string;
}

export function createBatchReplicaCalls(backend: () => StorageBackend, masterKey: string) {
  async function usageRows(batchId: string): Promise<ReplicaUsageRow[]> {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    try {
      const result = await client.query<ReplicaUsageRow>(
        `select id, provider from "${backend().settings.postgresSchema}".usage where request_id = $1`,
        [batchId],
      );
      return result.rows;
    } finally {
      await client.end();
    }
  }

  return {
    usageRows,
    /** `GET /v1/batches/{id}/results` from each of `urls` (repeat a URL to fetch from it more than once), all at once. */
    fetchResults(urls: string[], batchId: string): Promise<{ status: number; text: string }[]> {
      return Promise.all(
        urls.map((url) =>
          fetch(`${url}/v1/batches/${batchId}/results`, { headers: { authorization: `Bearer ${masterKey}` } }).then(async (response) => ({
            status: response.status,
            text: await response.text(),
          })),
        ),
      );
    },
    /** The usage rows of a batch as soon as there are any (a poller recorded them), or none after 30 s. */
    async polledUsageRows(batchId: string): Promise<ReplicaUsageRow[]> {
      const deadline = Date.now() + 30_000;
      let rows: ReplicaUsageRow[] = [];
      while (Date.now() < deadline) {
        rows = await usageRows(batchId);
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return rows;
    },
  };
}
