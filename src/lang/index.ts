/**
 * tsbpf/lang: what kernel programs written in TypeScript import. Integer types, C strings and
 * fixed arrays, map classes, helpers, program declarators, kernel types and tracepoint contexts.
 * The same declarations type the user side: a program's interfaces describe the values its maps
 * and ring buffers hold, in the form tsbpf's decoders give them (u64 as bigint, char[N] as string).
 *
 * @example
 * import { tracepoint, RingBuf, HashMap, helpers as bpf, license, type u32, type u64, type Comm } from 'tsbpf/lang';
 * export interface ExecEvent { pid: u32; comm: Comm }
 * export const events = new RingBuf<ExecEvent>({ size: 1 << 20 });
 * export const counts = new HashMap<Comm, u64>({ maxEntries: 10240 });
 * export const onExec = tracepoint('syscalls', 'sys_enter_execve', (ctx) => {
 *   const e = events.reserve();
 *   if (!e) return 0;
 *   e.pid = bpf.pid();
 *   bpf.getCurrentComm(e.comm);
 *   counts.increment(e.comm);
 *   events.submit(e);
 *   return 0;
 * });
 * license('GPL');
 */
export * from './types.js';
export * from './maps.js';
export * from './helpers.js';
export * from './programs.js';
export * from './packet.js';
export { KernelOnlyError } from './runtime.js';
export type * from './kernel.js';
export type { Tracepoints, TracepointContext, TracepointCommon } from './tracepoints.js';
