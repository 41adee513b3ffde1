export * from './observability.config';
export * from './logging/app-logger';
export * from './logging/error-message';
export * from './logging/redaction';
export * from './tracing/tracing.config';
export * from './tracing/tracing-sdk';
export * from './logging/trace-context.logger';
