export * from './failures';
export * from './kds';
export * from './marks';
export * from './plan';
export * from './progress';
export * from './request';
export * from './session-configuration';
