export * from './errors.js';
export * from './json-schema.js';
export * from './messages.js';
export * from './names.js';
export * from './parse.js';
export * from './step-event.js';
export * from './step-spec.js';
export * from './step-status.js';
