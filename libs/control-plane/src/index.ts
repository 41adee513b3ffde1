export * from './control-plane.config';
export * from './control-plane.module';
export * from './control-plane.service';
export * from './call/call-context';
export * from './call/call-observer';
export * from './errors/gateway-error-code';
export * from './errors/gateway.exception';
export * from './errors/error-bodies';
