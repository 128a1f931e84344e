/**
 * Whether a target (provider instance + upstream model) can take calls right now. Routing asks it to
 * skip targets; features that know about health (circuit breakers, key pools, provider rate limits)
 * add their checks. With no check added every target is available.
 */
export interface TargetHealth {
  available(provider: string, model: string): boolean;
}

export interface TargetHealthRegistry extends TargetHealth {
  add(check: TargetHealth): void;
}

export function createTargetHealth(): TargetHealthRegistry {
  const checks: TargetHealth[] = [];
  return {
    add(check) {
      checks.push(check);
    },
    available(provider, model) {
      for (const check of checks) if (!check.available(provider, model)) return false;
      return true;
    },
  };
}
