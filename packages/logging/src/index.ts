export * from './create-logger.js';
export * from './secret-registry.js';
export * from './with-secrets.js';
