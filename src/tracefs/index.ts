export * from './format.js';
export * from './mount.js';
