/**
 * The programs of the differential test: testdata/diff/<file>.bpf.c (built by clang, objects
 * committed; testdata/diff/build.sh) and, where the dialect can say the same thing, their
 * TypeScript twins <file>.bpf.ts (socket_ldabs has none: the dialect has no legacy ld_abs).
 */
export interface Fixture {
  file: string;
  program: string;
  /** What it exercises, for the test's name. */
  covers: string;
}

export const FIXTURES: readonly Fixture[] = [
  { file: 'xdp_parse', program: 'xdp_parse', covers: 'XDP packet parsing and rewriting, hash and array maps' },
  { file: 'xdp_alu', program: 'xdp_alu', covers: 'the ALU (64/32-bit, shifts past the width, division by zero, byte swaps, compares) and atomics' },
  {
    file: 'xdp_alu_v4',
    program: 'xdp_alu_v4',
    covers: 'cpu v4: signed division and modulo (INT_MIN / -1, by zero), sign-extending loads and moves, bswap',
  },
  { file: 'xdp_loop', program: 'xdp_loop', covers: 'bounded and nested loops over the packet, a per-CPU array, globals in .bss' },
  { file: 'tc_classify', program: 'tc_classify', covers: 'tc: __sk_buff reads and writes, IPv4/L4 parsing, packet writes, an LRU hash of structs' },
  { file: 'socket_ldabs', program: 'socket_ldabs', covers: 'socket filter: ld_abs/ld_ind (past the end too), __sk_buff reads, an array map' },
  { file: 'xdp_maps', program: 'xdp_maps', covers: 'map errors: update flags, full hash, delete, queue and stack push/pop/peek, per-CPU hash' },
  { file: 'xdp_ringbuf', program: 'xdp_ringbuf', covers: 'ring buffer reserve/submit/discard/output until full' },
  { file: 'xdp_spinlock', program: 'xdp_spinlock', covers: 'spin-locked map values, BPF_F_LOCK updates (refused for maps without a lock)' },
];
