export * from './opcodes.js';
export * from './instruction.js';
export * from './codec.js';
export * from './builder.js';
export * from './ubpf.js';
export * from './printer.js';
export * from './assembler.js';
