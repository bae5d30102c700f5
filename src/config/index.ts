export * from './clouds.js';
export * from './errors.js';
export * from './load.js';
export * from './partitions.js';
export * from './schema.js';
