export * from './upstream.config';
export * from './upstream.module';
export * from './routing/provider';
export * from './routing/model-router';
export * from './routing/routes-file';
export * from './client/upstream-client';
export * from './client/upstream-headers';
export * from './client/upstream.exception';
