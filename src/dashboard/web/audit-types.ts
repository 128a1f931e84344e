/** Shape of an audit log entry (GET /admin/api/v1/audit/log). */

export interface AuditEntry {
  id: string;
  request_id: string;
  created_at: string;
  endpoint: string;
  provider: string | null;
  provider_type: string | null;
  model: string | null;
  requested_model: string | null;
  stream: boolean;
  status: number;
  latency_ms: number | null;
  first_byte_ms: number | null;
  key_id: string | null;
  user: string | null;
  team: string | null;
  tags: string[];
  method: string;
  path: string;
  error: { code: string; message: string | null } | null;
  dropped_params: string[];
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
  request_body: unknown;
  response_body: unknown;
  body_truncated: boolean;
  thread_key: string | null;
  attempts: { provider: string; model: string; operation?: string; status: number; error: string | null; latency_ms: number | null }[];
  guardrails: unknown[];
}
