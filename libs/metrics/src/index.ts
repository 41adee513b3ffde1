export * from './metrics.config';
export * from './metrics.module';
export * from './warden-metrics';
export * from './call-metrics.observer';
export * from './families/capped-labels';
export * from './exposition/prometheus-text';
