export * from './errors.js';
export * as asm from './asm/index.js';
export { load, weakExternsOf, type LoadOptions } from './load.js';
export { Collection, type CollectionOptions } from './kernel/collection.js';
