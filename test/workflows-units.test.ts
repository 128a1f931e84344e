/**
 * Workflow resolution as a table: which workflow applies to a call, given a set of scoped workflows and
 * the call's key, owner and model (docs/workflows.md has the same precedence table). Also the config
 * validation and the policy version put into the cache key and the audit record.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.ts';
import { policyVersionOf } from '../src/pipeline/call-policy.ts';
import { loadWorkflowsConfig, type WorkflowDefinitionInput, workflowDefinitionSchema } from '../src/workflows/workflow-config.ts';
import { type CallSubject, createWorkflowResolver, policyOf, specificityOf } from '../src/workflows/workflow-resolver.ts';

function workflow(input: WorkflowDefinitionInput) {
  return { definition: workflowDefinitionSchema.parse(input), version: '1', source: 'admin' as const };
}

const everything = [
  workflow({ name: 'everyone', scope: {} }),
  workflow({ name: 'openai', scope: { provider: 'openai' } }),
  workflow({ name: 'mini', scope: { model: 'openai/gpt-4o-mini' } }),
  workflow({ name: 'tag-prod', scope: { tag: 'prod' } }),
  workflow({ name: 'tag-eu', scope: { tag: 'eu' } }),
  workflow({ name: 'tag-eu-urgent', scope: { tag: 'eu' }, priority: 5 }),
  workflow({ name: 'team-search', scope: { team: 'search' } }),
  workflow({ name: 'team-search-mini', scope: { team: 'search', model: 'gpt-4o-mini' } }),
  workflow({ name: 'user-alice', scope: { user: 'alice' } }),
  workflow({ name: 'user-alice-openai', scope: { user: 'alice', provider: 'openai' } }),
  workflow({ name: 'key-one', scope: { key: 'key_one' } }),
  workflow({ name: 'key-one-anthropic', scope: { key: 'key_one', provider: 'anthropic' } }),
  workflow({ name: 'off', scope: { key: 'key_off' }, enabled: false }),
];

function subject(fields: Partial<CallSubject> & { model?: string; resolved?: [string, string] }): CallSubject {
  const { model = 'gpt-4o', resolved = ['openai', 'gpt-4o'], ...rest } = fields;
  return {
    keyId: null,
    user: null,
    team: null,
    tags: [],
    models: [model, `${resolved[0]}/${resolved[1]}`, resolved[1]],
    provider: resolved[0],
    ...rest,
  };
}

describe('workflow precedence', () => {
  // [case, call subject, workflow expected to apply]
  const table: [string, CallSubject, string | null][] = [
    ['no identity, other provider: the empty scope', subject({ model: 'claude', resolved: ['anthropic', 'claude'] }), 'everyone'],
    ['no identity, openai model: provider beats the empty scope', subject({}), 'openai'],
    ['model beats provider (matched by provider/model)', subject({ model: 'gpt-4o-mini', resolved: ['openai', 'gpt-4o-mini'] }), 'mini'],
    ['tag beats model', subject({ tags: ['prod'], model: 'gpt-4o-mini', resolved: ['openai', 'gpt-4o-mini'] }), 'tag-prod'],
    ['two tags of one key: the higher priority wins', subject({ tags: ['prod', 'eu'] }), 'tag-eu-urgent'],
    ['team beats tag', subject({ team: 'search', tags: ['prod'] }), 'team-search'],
    [
      'team + model beats team alone (bare model id matches)',
      subject({ team: 'search', model: 'gpt-4o-mini', resolved: ['openai', 'gpt-4o-mini'] }),
      'team-search-mini',
    ],
    [
      'user beats team + model',
      subject({ user: 'alice', team: 'search', model: 'gpt-4o-mini', resolved: ['openai', 'gpt-4o-mini'] }),
      'user-alice-openai',
    ],
    [
      'user alone when its provider-scoped workflow does not match',
      subject({ user: 'alice', model: 'claude', resolved: ['anthropic', 'claude'] }),
      'user-alice',
    ],
    ['key beats user + provider', subject({ keyId: 'key_one', user: 'alice' }), 'key-one'],
    [
      'key + provider beats key alone',
      subject({ keyId: 'key_one', user: 'alice', model: 'claude', resolved: ['anthropic', 'claude'] }),
      'key-one-anthropic',
    ],
    ['a disabled workflow never applies', subject({ keyId: 'key_off', model: 'claude', resolved: ['anthropic', 'claude'] }), 'everyone'],
    ['a tag that does not match (prefix) falls through', subject({ tags: ['pro'] }), 'openai'],
  ];
  const resolver = createWorkflowResolver(everything);

  it.each(table)('%s', (_case, call, expected) => {
    expect(resolver.resolve(call)?.definition.name ?? null).toBe(expected);
  });

  it('ties of the same dimensions and priority are broken by name; no workflow at all resolves nothing', () => {
    const tied = createWorkflowResolver([
      workflow({ name: 'b-tag', scope: { tag: 'x' } }),
      workflow({ name: 'a-tag', scope: { tag: 'y' } }),
    ]);
    expect(tied.resolve(subject({ tags: ['x', 'y'] }))?.definition.name).toBe('a-tag');
    expect(createWorkflowResolver([]).empty).toBe(true);
    expect(createWorkflowResolver([workflow({ name: 'off', enabled: false })]).empty).toBe(true);
    const scoped = createWorkflowResolver([workflow({ name: 'k', scope: { key: 'key_x' } })]);
    expect(scoped.resolve(subject({}))).toBeNull();
    expect([scoped.needsTarget, scoped.needsOwner]).toEqual([false, false]);
  });

  it('weights: each dimension outranks every combination of the less specific ones', () => {
    const weight = (scope: Record<string, string>) => specificityOf(workflowDefinitionSchema.parse({ name: 'w', scope }));
    expect(weight({ key: 'k' })).toBeGreaterThan(weight({ user: 'u', team: 't', tag: 'g', model: 'm', provider: 'p' }));
    expect(weight({ user: 'u' })).toBeGreaterThan(weight({ team: 't', tag: 'g', model: 'm', provider: 'p' }));
    expect(weight({ team: 't' })).toBeGreaterThan(weight({ tag: 'g', model: 'm', provider: 'p' }));
    expect(weight({ tag: 'g' })).toBeGreaterThan(weight({ model: 'm', provider: 'p' }));
    expect(weight({ model: 'm' })).toBeGreaterThan(weight({ provider: 'p' }));
    expect(weight({ provider: 'p' })).toBeGreaterThan(weight({}));
  });
});

describe('workflow definitions', () => {
  it('switches default to on; guardrails default to all (null); unknown fields and bad names are refused', () => {
    const policy = policyOf(workflow({ name: 'plain' }));
    expect(policy).toEqual({
      workflow: 'plain',
      version: '1',
      guardrails: null,
      cache: true,
      audit: true,
      usage: true,
      fallback: true,
      budget: true,
    });
    expect(policyOf(workflow({ name: 'none', guardrails: [] })).guardrails).toEqual([]);
    expect(workflowDefinitionSchema.safeParse({ name: 'x', scope: { planet: 'mars' } }).success).toBe(false);
    expect(workflowDefinitionSchema.safeParse({ name: 'x', cache: 'no' }).success).toBe(false);
    expect(workflowDefinitionSchema.safeParse({ name: 'x'.repeat(41) }).success).toBe(false);
    expect(workflowDefinitionSchema.safeParse({ name: 'bad name' }).success).toBe(false);
  });

  it('a name used twice in config.yaml and a bad WORKFLOWS_REFRESH_SECONDS fail at start, naming the key', () => {
    const twice = [workflowDefinitionSchema.parse({ name: 'a' }), workflowDefinitionSchema.parse({ name: 'a' })];
    expect(() => loadWorkflowsConfig({}, { workflows: twice })).toThrow(ConfigError);
    expect(() => loadWorkflowsConfig({}, { workflows: twice })).toThrow(/workflows/);
    expect(() => loadWorkflowsConfig({ WORKFLOWS_REFRESH_SECONDS: 'soon' }, {})).toThrow(/WORKFLOWS_REFRESH_SECONDS/);
    expect(loadWorkflowsConfig({}, {}).refreshSeconds).toBe(10);
  });

  it('the policy version names the guardrails hash and the workflow version, within the audit column width', () => {
    const policy = policyOf(workflow({ name: 'support' }));
    expect(policyVersionOf('abc123def456', undefined)).toBe('abc123def456');
    expect(policyVersionOf('abc123def456', policy)).toBe('abc123def456/support@1');
    expect(policyVersionOf(null, policy)).toBe('support@1');
    const long = policyOf({ ...workflow({ name: 'n'.repeat(40) }), version: '1234567890123' });
    expect(policyVersionOf('abc123def456', long).length).toBeLessThanOrEqual(64);
  });
});
