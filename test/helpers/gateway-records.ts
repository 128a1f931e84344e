/**
 * Reads a running gateway's usage and audit rows through its admin API (GET /admin/api/v1/usage/log and
 * /admin/api/v1/audit/log), waiting for rows that are written after the answer (the batch writer).
 */
type Row = Record<string, unknown>;

export async function recordRows(url: string, key: string, kind: 'usage' | 'audit'): Promise<Row[]> {
  const response = await fetch(`${url}/admin/api/v1/${kind}/log?limit=500`, { headers: { authorization: `Bearer ${key}` } });
  if (!response.ok) throw new Error(`GET /admin/api/v1/${kind}/log: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: Row[] }).data;
}

/** Rows matching `match`, once there are at least `count` of them (or what there is after `timeoutMs`). */
export async function waitForRows(
  url: string,
  key: string,
  kind: 'usage' | 'audit',
  match: (row: Row) => boolean,
  count: number,
  timeoutMs = 10_000,
): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await recordRows(url, key, kind)).filter(match);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
