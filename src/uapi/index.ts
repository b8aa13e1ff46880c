export * from './helper-table.js';
export * from './enums.js';
