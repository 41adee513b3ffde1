export * from './env-config';
export * from './invalid-config.exception';
export * from './config-root.module';
export * from './interpolate-env';
