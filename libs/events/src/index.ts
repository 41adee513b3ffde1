export * from './warden-event';
export * from './event-publisher.port';
export * from './in-process-event-bus.adapter';
export * from './events.module';
export * from './instance-id';
export * from './conversation-store.port';
export * from './event-types';
