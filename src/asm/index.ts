export * from './opcodes.js';
export * from './instruction.js';
export * from './codec.js';
export * from './builder.js';
