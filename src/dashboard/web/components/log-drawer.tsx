/** One audit entry in a drawer: metadata, attempts and fallbacks, redacted headers, bodies, the conversation. */
import { Fragment } from 'preact';
import type { AuditEntry } from '../audit-types.ts';
import { useDashboard } from '../context.ts';
import { requestMessages, responseMessage, type ThreadMessage } from '../conversation.ts';
import { formatMs, formatTime } from '../format.ts';
import { useResource } from '../hooks.ts';
import { DataTable, Drawer, Notice, Pretty } from './ui.tsx';

function Messages(props: { messages: ThreadMessage[]; current?: boolean }) {
  return (
    <>
      {props.messages.map((message, index) => (
        <li class={`message ${props.current ? 'current' : ''}`} key={index}>
          <div class="role">{message.role}</div>
          <div class="content">{message.text || '(empty)'}</div>
        </li>
      ))}
    </>
  );
}

function Thread(props: { entry: AuditEntry; onOpen: (entry: AuditEntry) => void }) {
  const { api } = useDashboard();
  const thread = useResource(
    () => api.get<{ entries: AuditEntry[] }>(`/audit/log/${encodeURIComponent(props.entry.id)}/thread`),
    [api, props.entry.id],
  );
  if (thread.error) return <Notice kind="error">Could not load the conversation: {thread.error.message}</Notice>;
  const entries = thread.data?.entries ?? [];
  if (!thread.data) return <p class="muted">Loading…</p>;
  // The latest call carries the whole history; each call's answer follows what it was sent.
  const last = entries[entries.length - 1] ?? props.entry;
  const history = requestMessages(last.request_body);
  const answer = responseMessage(last.response_body);
  return (
    <div data-testid="thread">
      <p class="muted small">
        {entries.length} call{entries.length === 1 ? '' : 's'} in this conversation
      </p>
      {history.length === 0 && !answer ? (
        <p class="muted">No bodies were logged (LOGGING_LOG_BODIES=true keeps them).</p>
      ) : (
        <ol class="thread" aria-label="Conversation">
          <Messages messages={history} />
          {answer ? <Messages messages={[answer]} current /> : null}
        </ol>
      )}
      {entries.length > 1 ? (
        <DataTable
          caption="Calls of this conversation"
          rowKey={(row) => row.id}
          rows={entries}
          onRowClick={props.onOpen}
          columns={[
            { label: 'Time', value: (row) => `${formatTime(row.created_at)}${row.id === props.entry.id ? ' (this one)' : ''}` },
            { label: 'Model', value: (row) => row.model ?? '–' },
            { label: 'Status', value: (row) => String(row.status), numeric: true },
          ]}
        />
      ) : null}
    </div>
  );
}

export function LogDrawer(props: { entry: AuditEntry; onClose: () => void; onOpen: (entry: AuditEntry) => void }) {
  const { entry } = props;
  const fields: [string, string][] = [
    ['Time', formatTime(entry.created_at)],
    ['Request id', entry.request_id],
    ['Endpoint', `${entry.method} ${entry.path} (${entry.endpoint})`],
    ['Status', String(entry.status)],
    [
      'Model',
      entry.requested_model && entry.requested_model !== entry.model
        ? `${entry.requested_model} → ${entry.model ?? '–'}`
        : (entry.model ?? '–'),
    ],
    ['Provider', entry.provider ? `${entry.provider} (${entry.provider_type ?? '?'})` : '–'],
    ['Stream', entry.stream ? 'yes' : 'no'],
    ['Latency', `${formatMs(entry.latency_ms)}${entry.first_byte_ms !== null ? `, first byte ${formatMs(entry.first_byte_ms)}` : ''}`],
    ['Key', entry.key_id ?? '–'],
    ['Owner', [entry.user, entry.team, ...entry.tags].filter(Boolean).join(' / ') || '–'],
  ];
  if (entry.error) fields.push(['Error', `${entry.error.code}: ${entry.error.message ?? ''}`]);
  if (entry.dropped_params.length) fields.push(['Dropped parameters', entry.dropped_params.join(', ')]);
  return (
    <Drawer title={`Call ${entry.request_id.slice(0, 8)}`} onClose={props.onClose}>
      <dl class="details" data-testid="log-details">
        {fields.map(([label, value]) => (
          <Fragment key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
      </dl>
      <h3 class="small-heading">Attempts and fallbacks</h3>
      {entry.attempts.length === 0 ? (
        <p class="muted small">No upstream attempt recorded (answered by the gateway: cache, guardrail or limit).</p>
      ) : (
        <DataTable
          caption="Upstream attempts"
          testId="log-attempts"
          rowKey={(_row, index) => String(index)}
          rows={entry.attempts}
          columns={[
            { label: '#', value: (row) => String(entry.attempts.indexOf(row) + 1), numeric: true },
            { label: 'Provider', value: (row) => row.provider },
            { label: 'Model', value: (row) => row.model },
            { label: 'Status', value: (row) => String(row.status), numeric: true },
            { label: 'Error', value: (row) => row.error ?? '–' },
            { label: 'Latency', value: (row) => formatMs(row.latency_ms), numeric: true },
          ]}
        />
      )}
      {entry.guardrails.length ? (
        <>
          <h3 class="small-heading">Guardrails</h3>
          <Pretty value={entry.guardrails} label="Guardrail results" />
        </>
      ) : null}
      <h3 class="small-heading">Conversation</h3>
      <Thread entry={entry} onOpen={props.onOpen} />
      <h3 class="small-heading">Request headers (credentials redacted)</h3>
      {entry.request_headers ? (
        <Pretty value={entry.request_headers} label="Request headers" />
      ) : (
        <p class="muted small">Not logged (LOGGING_LOG_HEADERS).</p>
      )}
      <h3 class="small-heading">Response headers</h3>
      {entry.response_headers ? <Pretty value={entry.response_headers} label="Response headers" /> : <p class="muted small">Not logged.</p>}
      <h3 class="small-heading">Request body{entry.body_truncated ? ' (truncated)' : ''}</h3>
      {entry.request_body !== null ? (
        <Pretty value={entry.request_body} label="Request body" />
      ) : (
        <p class="muted small">Not logged (LOGGING_LOG_BODIES).</p>
      )}
      <h3 class="small-heading">Response body</h3>
      {entry.response_body !== null ? <Pretty value={entry.response_body} label="Response body" /> : <p class="muted small">Not logged.</p>}
    </Drawer>
  );
}
