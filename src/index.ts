export * from './errors.js';
export * as asm from './asm/index.js';
