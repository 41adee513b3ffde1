import type { WireFormat } from '@warden/llm';
import type { UpstreamTimeouts } from '../upstream.config';
import type { Provider } from './provider';
import type { RoutesFile } from './routes-file';

/** Where one model name goes. */
export interface ResolvedRoute {
  readonly provider: Provider;
  /** The model name sent upstream (an explicit `provider/` prefix removed, or the rule's rewrite). */
  readonly upstreamModel: string;
  readonly timeouts: UpstreamTimeouts;
}

/** A model the gateway advertises on `GET /v1/models`. */
export interface AdvertisedModel {
  readonly id: string;
  readonly provider: string;
}

interface Rule {
  readonly pattern: RegExp;
  readonly provider: string;
  readonly model?: string;
  readonly timeouts: UpstreamTimeouts;
}

/** Built-in rules, applied after the file's own (first match wins). */
const BUILT_IN_RULES: ReadonlyArray<readonly [string, string]> = [
  ['claude*', 'anthropic'],
  ['gpt-*', 'openai'],
  ['o1*', 'openai'],
  ['o3*', 'openai'],
  ['o4*', 'openai'],
  ['chatgpt-*', 'openai'],
  ['mock-*', 'mock'],
];

/** Models of the built-in mock, always advertised. */
export const MOCK_MODELS: readonly string[] = ['mock-small', 'mock-large'];

/** Name of the built-in mock provider. */
export const MOCK_PROVIDER = 'mock';

/** Turns a glob (`*` any run, `?` one character) into an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'su');
}

/**
 * Resolves model names to providers: an explicit `provider/model` prefix wins, then the routes file's rules
 * in order, then the built-in rules. Providers are registered at boot (the mock once its port is known).
 */
export class ModelRouter {
  private readonly providers = new Map<string, Provider>();
  private readonly rules: Rule[];

  constructor(
    private readonly defaults: UpstreamTimeouts,
    private readonly file: RoutesFile,
  ) {
    const fileRules = file.routes.map((r) => ({
      pattern: globToRegExp(r.match),
      provider: r.provider,
      model: r.model,
      timeouts: { ...defaults, ...r.timeouts },
    }));
    const builtIns = BUILT_IN_RULES.map(([glob, provider]) => ({
      pattern: globToRegExp(glob),
      provider,
      timeouts: defaults,
    }));
    this.rules = [...fileRules, ...builtIns];
  }

  /** Adds or replaces a provider. */
  register(provider: Provider): void {
    this.providers.set(provider.name, provider);
  }

  /** A registered provider by name. */
  provider(name: string): Provider | undefined {
    return this.providers.get(name);
  }

  /** Checks that every rule and model points at a registered provider (call once all are registered). */
  verify(): string[] {
    const problems: string[] = [];
    for (const rule of this.file.routes) {
      if (!this.providers.has(rule.provider))
        problems.push(`route ${rule.match}: unknown provider ${rule.provider}`);
    }
    for (const model of this.file.models) {
      if (model.provider !== undefined && !this.providers.has(model.provider)) {
        problems.push(`model ${model.id}: unknown provider ${model.provider}`);
      }
    }
    return problems;
  }

  /** The route for `model`, or undefined when nothing serves it. */
  resolve(model: string): ResolvedRoute | undefined {
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = this.providers.get(model.slice(0, slash));
      if (provider !== undefined) {
        const upstreamModel = model.slice(slash + 1);
        const rule = this.rules.find((r) => r.provider === provider.name && r.pattern.test(upstreamModel));
        return { provider, upstreamModel, timeouts: rule?.timeouts ?? this.defaults };
      }
    }
    for (const rule of this.rules) {
      if (!rule.pattern.test(model)) continue;
      const provider = this.providers.get(rule.provider);
      if (provider === undefined) continue;
      return { provider, upstreamModel: rule.model ?? model, timeouts: rule.timeouts };
    }
    return undefined;
  }

  /** The advertised catalogue: the file's models that resolve, then the mock's when it is registered. */
  models(): AdvertisedModel[] {
    const out: AdvertisedModel[] = [];
    for (const m of this.file.models) {
      const route = this.resolve(m.provider === undefined ? m.id : `${m.provider}/${m.id}`);
      if (route !== undefined) out.push({ id: m.id, provider: route.provider.name });
    }
    if (this.providers.has(MOCK_PROVIDER)) {
      for (const id of MOCK_MODELS) out.push({ id, provider: MOCK_PROVIDER });
    }
    return out;
  }

  /** Which formats a resolved route's provider speaks. */
  static speaks(route: ResolvedRoute, format: WireFormat): boolean {
    return route.provider.baseUrls[format] !== undefined;
  }
}
