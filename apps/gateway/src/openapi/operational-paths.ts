import type { OperationObject } from '@nestjs/swagger';
import { API_TAGS } from './api-docs.decorators';
import { SECURITY } from './openapi-security';
import { ref } from './schemas/schema-ref';

const HEALTH_REPORT = { 'application/json': { schema: ref('HealthReport') } };

/**
 * Descriptions of Nest routes whose controllers carry no OpenAPI decorators (health, owned by the lifecycle code;
 * metrics, owned by the metrics module), by `METHOD /path`. Applied to the scanned document only where the app
 * serves the route, so the document never lists a route the app does not register.
 */
export const OPERATIONAL_OPERATIONS: Readonly<Record<string, OperationObject>> = {
  'GET /health': {
    tags: [API_TAGS.health],
    summary: 'Health of every dependency',
    description:
      'Serving state, history database, event bus and event queue. `ok` and `degraded` (an optional part ' +
      'impaired: calls are still served) answer 200; `down` answers 503. No authentication.',
    security: [],
    responses: {
      '200': { description: 'ok or degraded.', content: HEALTH_REPORT },
      '503': { description: 'down, or the replica is starting or shutting down.', content: HEALTH_REPORT },
    },
  },
  'GET /health/live': {
    tags: [API_TAGS.health],
    summary: 'Liveness probe',
    description: 'The process answers (restart it when this fails). No authentication.',
    security: [],
    responses: {
      '200': { description: 'Alive.', content: { 'application/json': { schema: ref('HealthLive') } } },
    },
  },
  'GET /health/ready': {
    tags: [API_TAGS.health],
    summary: 'Readiness probe',
    description:
      'Whether this replica takes calls now: 503 while starting, draining for shutdown, or when a required ' +
      'database (DATABASE_REQUIRED) is down. No authentication.',
    security: [],
    responses: {
      '200': { description: 'Ready.', content: HEALTH_REPORT },
      '503': { description: 'Not ready.', content: HEALTH_REPORT },
    },
  },
  'GET /metrics': {
    tags: [API_TAGS.metrics],
    summary: 'Prometheus metrics',
    description:
      'Metrics in the Prometheus text exposition format: LLM requests, latency, time to first token, tokens, ' +
      'calls in flight, policy latency and decisions, event queue, rate limiting, upstream breakers, Node runtime. ' +
      'With METRICS_TOKEN set, scrapers send it as a Bearer token; without it the endpoint is open (restrict it ' +
      'at the network).',
    security: [{ [SECURITY.metricsToken]: [] }, {}],
    responses: {
      '200': {
        description: 'The metrics.',
        content: {
          'text/plain': {
            schema: { type: 'string' },
            example:
              '# HELP warden_llm_requests_total LLM requests\n# TYPE warden_llm_requests_total counter\n' +
              'warden_llm_requests_total{route="/v1/chat/completions",status="200",model="gpt-4o-mini"} 3\n',
          },
        },
      },
      '401': {
        description: 'METRICS_TOKEN is set and the request does not carry it.',
        content: { 'application/json': { schema: ref('OpenAIError') } },
      },
      '404': {
        description: 'METRICS_ENABLED=false.',
        content: { 'application/json': { schema: ref('OpenAIError') } },
      },
    },
  },
};
