export * from './helper-table.js';
