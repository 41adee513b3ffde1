export * from './observability.config';
export * from './logging/app-logger';
export * from './logging/redaction';
