import { CallObserver, type CallContext, type CallEndpoint } from '@warden/control-plane';
import type { Registry } from 'prom-client';
import { CappedLabels, OTHER_LABEL } from './families/capped-labels';
import { CounterFamily, HistogramFamily } from './families/metric-families';
import type { CounterSeries, HistogramSeries } from './families/series';

/** Buckets (seconds) of LLM latencies: a cached answer in milliseconds to a long agent turn in minutes. */
export const LLM_LATENCY_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 900,
];

/** Most distinct providers labelled (they come from the configuration; the cap is a safety net). */
export const MAX_PROVIDER_LABELS = 64;
/** Most distinct (policy, action) pairs labelled (policy names come from the configuration). */
export const MAX_POLICY_DECISION_LABELS = 256;

/** The `route` label of each LLM endpoint. */
const ROUTE_LABELS: Readonly<Record<CallEndpoint, string>> = {
  chat: '/v1/chat/completions',
  messages: '/v1/messages',
};

/** Statuses per route within a model's outcome key (`route index * STATUS_SPAN + status`). */
const STATUS_SPAN = 1000;
const MS_PER_S = 1000;
const POLICY_EVENT_PREFIX = 'policy.';

type OutcomeLabel = 'route' | 'status' | 'model';

/** Request count and latency of one (route, status, model). */
interface Outcome {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
}

/** Everything labelled by one model, created on its first call. */
class ModelSeries {
  readonly ttft: HistogramSeries;
  readonly inputTokens: CounterSeries;
  readonly outputTokens: CounterSeries;
  private readonly outcomes = new Map<number, Outcome>();

  constructor(
    readonly model: string,
    private readonly families: CallFamilies,
  ) {
    this.ttft = families.ttft.add({ model });
    this.inputTokens = families.tokens.add({ model, direction: 'input' });
    this.outputTokens = families.tokens.add({ model, direction: 'output' });
  }

  outcome(endpoint: CallEndpoint, status: number): Outcome {
    const key = (endpoint === 'chat' ? 0 : STATUS_SPAN) + status;
    let outcome = this.outcomes.get(key);
    if (outcome === undefined) {
      const labels = { route: ROUTE_LABELS[endpoint], status: String(status), model: this.model };
      outcome = {
        requests: this.families.requests.add(labels),
        duration: this.families.duration.add(labels),
      };
      this.outcomes.set(key, outcome);
    }
    return outcome;
  }
}

/** The metric families fed by calls. */
interface CallFamilies {
  readonly requests: CounterFamily<OutcomeLabel>;
  readonly duration: HistogramFamily<OutcomeLabel>;
  readonly ttft: HistogramFamily<'model'>;
  readonly tokens: CounterFamily<'model' | 'direction'>;
}

/**
 * The control plane's {@link CallObserver} for Prometheus: every series is created once per label set and cached
 * (per model, then per route and status), so a call costs a few map lookups and number updates, no allocation and
 * no async work. Model names come from clients: beyond `maxModels` distinct models they are labelled `other`.
 */
export class CallMetrics extends CallObserver {
  private callsInFlight = 0;
  private streamsInFlight = 0;
  private readonly families: CallFamilies;
  private readonly models: CappedLabels<ModelSeries>;
  private readonly upstream: CappedLabels<HistogramSeries>;
  private readonly decisions: CappedLabels<CounterSeries>;
  private readonly policyEvents: CappedLabels<CounterSeries>;
  /** Policy event types (`policy.<name>.<event>`) seen, to their series (bounded like `policyEvents`). */
  private readonly eventTypes = new Map<string, CounterSeries>();

  constructor(registry: Registry, maxModels: number) {
    super();
    const outcomeLabels: OutcomeLabel[] = ['route', 'status', 'model'];
    this.families = {
      requests: new CounterFamily(registry, {
        name: 'warden_llm_requests_total',
        help: 'LLM calls served, by route, HTTP status and requested model.',
        labelNames: outcomeLabels,
      }),
      duration: new HistogramFamily(
        registry,
        {
          name: 'warden_llm_request_duration_seconds',
          help: 'Duration of LLM calls until the response ended, by route, HTTP status and requested model.',
          labelNames: outcomeLabels,
        },
        LLM_LATENCY_BUCKETS_S,
      ),
      ttft: new HistogramFamily(
        registry,
        {
          name: 'warden_llm_time_to_first_token_seconds',
          help: 'Time from the arrival of a streamed call to its first token sent to the client, by model.',
          labelNames: ['model'],
        },
        LLM_LATENCY_BUCKETS_S,
      ),
      tokens: new CounterFamily(registry, {
        name: 'warden_llm_tokens_total',
        help: 'Tokens reported by upstream usage, by model and direction (input, output).',
        labelNames: ['model', 'direction'],
      }),
    };
    const upstream = new HistogramFamily(
      registry,
      {
        name: 'warden_upstream_response_seconds',
        help: 'Time from sending a call upstream to the upstream response headers, by provider.',
        labelNames: ['provider'],
      },
      LLM_LATENCY_BUCKETS_S,
    );
    const decisions = new CounterFamily(registry, {
      name: 'warden_policy_decisions_total',
      help: 'Calls a request policy ended itself, by policy and action: reject (an error answer) or respond (an answer written by the policy).',
      labelNames: ['policy', 'action'],
    });
    const events = new CounterFamily(registry, {
      name: 'warden_policy_events_total',
      help: 'Events policies emitted (blocked, replaced, allowed, ...), by policy and event. One call may emit several.',
      labelNames: ['policy', 'event'],
    });
    this.models = new CappedLabels(maxModels, (model) => new ModelSeries(model, this.families));
    this.upstream = new CappedLabels(MAX_PROVIDER_LABELS, (provider) => upstream.add({ provider }));
    this.decisions = new CappedLabels(MAX_POLICY_DECISION_LABELS, (key) => {
      const [policy, action] = splitKey(key);
      return decisions.add({ policy, action });
    });
    this.policyEvents = new CappedLabels(MAX_POLICY_DECISION_LABELS, (key) => {
      const [policy, event] = splitKey(key);
      return events.add({ policy, event });
    });
  }

  /** Calls being served now. */
  get inFlight(): number {
    return this.callsInFlight;
  }

  /** Streamed calls being served now. */
  get activeStreams(): number {
    return this.streamsInFlight;
  }

  callStarted(call: CallContext): void {
    this.callsInFlight++;
    if (call.stream) this.streamsInFlight++;
  }

  upstreamResponded(call: CallContext, _status: number, ms: number): void {
    this.upstream.get(call.route.provider.name).observe(ms / MS_PER_S);
  }

  firstToken(call: CallContext, ms: number): void {
    this.models.get(call.model).ttft.observe(ms / MS_PER_S);
  }

  usage(call: CallContext, inputTokens: number | undefined, outputTokens: number | undefined): void {
    const model = this.models.get(call.model);
    if (inputTokens !== undefined) model.inputTokens.inc(inputTokens);
    if (outputTokens !== undefined) model.outputTokens.inc(outputTokens);
  }

  policyDecision(_call: CallContext, policy: string, action: 'reject' | 'respond'): void {
    // Rare (a policy ended the call): the key is built each time rather than cached per policy.
    this.decisions.get(`${policy}\n${action}`).inc();
  }

  policyEvent(_call: CallContext, type: string): void {
    let series = this.eventTypes.get(type);
    if (series === undefined) {
      series = this.policyEvents.get(decisionKey(type));
      if (this.eventTypes.size < MAX_POLICY_DECISION_LABELS) this.eventTypes.set(type, series);
    }
    series.inc();
  }

  callEnded(call: CallContext, status: number, ms: number): void {
    this.callsInFlight--;
    if (call.stream) this.streamsInFlight--;
    const outcome = this.models.get(call.model).outcome(call.endpoint, status);
    outcome.requests.inc();
    outcome.duration.observe(ms / MS_PER_S);
  }
}

/** A `<policy>\n<label>` key as its two labels (`other` for both when it has no separator). */
function splitKey(key: string): [string, string] {
  const split = key.lastIndexOf('\n');
  return split < 0 ? [OTHER_LABEL, OTHER_LABEL] : [key.slice(0, split), key.slice(split + 1)];
}

/** `policy.<name>.<action>` as the decision key `<name>\n<action>` (a type of another shape counts as other). */
function decisionKey(type: string): string {
  const split = type.lastIndexOf('.');
  if (!type.startsWith(POLICY_EVENT_PREFIX) || split <= POLICY_EVENT_PREFIX.length) return OTHER_LABEL;
  return `${type.slice(POLICY_EVENT_PREFIX.length, split)}\n${type.slice(split + 1)}`;
}
