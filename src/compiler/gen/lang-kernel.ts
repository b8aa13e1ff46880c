/**
 * Generates src/lang/kernel.ts (TypeScript declarations of the kernel structs kernel programs
 * commonly read, the uapi context structs, and the BTF-typed tracepoints' arguments) and
 * src/compiler/kernel-aliases.ts from the running kernel's BTF. Run after a kernel upgrade:
 *
 *     npm run build && node dist/src/compiler/gen/lang-kernel.js [/sys/kernel/btf/vmlinux]
 *
 * Only the selected structs and the structs they embed are declared in full; pointers to other
 * structs point to empty (opaque) interfaces, whose fields the compiler still resolves from
 * BTF, but the editor does not show.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BtfKind, parseBtf, resolveType, type Btf, type BtfType } from '../../btf/index.js';

/** C name -> TypeScript alias of the structs declared in full. */
const ROOTS: Record<string, string> = {
  // Context structs of program types (include/uapi/linux/bpf.h, arch/x86/include/asm/ptrace.h).
  __sk_buff: 'SkBuff',
  xdp_md: 'XdpMd',
  bpf_sock: 'BpfSock',
  bpf_cgroup_dev_ctx: 'BpfCgroupDevCtx',
  bpf_perf_event_data: 'BpfPerfEventData',
  pt_regs: 'PtRegs',
  bpf_sock_addr: 'BpfSockAddr',
  // Packet headers.
  ethhdr: 'EthHdr',
  iphdr: 'IpHdr',
  ipv6hdr: 'Ipv6Hdr',
  tcphdr: 'TcpHdr',
  udphdr: 'UdpHdr',
  icmphdr: 'IcmpHdr',
  // Kernel structs tracing programs read.
  task_struct: 'TaskStruct',
  mm_struct: 'MmStruct',
  vm_area_struct: 'VmAreaStruct',
  file: 'File',
  path: 'Path',
  dentry: 'Dentry',
  qstr: 'Qstr',
  inode: 'Inode',
  super_block: 'SuperBlock',
  cred: 'Cred',
  signal_struct: 'SignalStruct',
  nsproxy: 'Nsproxy',
  pid_namespace: 'PidNamespace',
  uts_namespace: 'UtsNamespace',
  new_utsname: 'NewUtsname',
  pid: 'Pid',
  upid: 'Upid',
  files_struct: 'FilesStruct',
  fdtable: 'Fdtable',
  fs_struct: 'FsStruct',
  sock: 'Sock',
  sock_common: 'SockCommon',
  socket: 'Socket',
  sk_buff: 'KernelSkBuff',
  net_device: 'NetDevice',
  linux_binprm: 'LinuxBinprm',
  filename: 'Filename',
  cgroup: 'Cgroup',
  css_set: 'CssSet',
  kernfs_node: 'KernfsNode',
};

/** Aliases the lang module adds for convenience. */
const EXTRA_ALIASES: Record<string, string> = { CgroupDevCtx: 'bpf_cgroup_dev_ctx', BpfRawTracepointArgs: 'bpf_raw_tracepoint_args' };

const RESERVED = new Set(
  ('any unknown number bigint boolean string symbol void never object undefined null this break case catch class const continue ' +
    'debugger default delete do else enum export extends false finally for function if import in instanceof new return super ' +
    'switch throw true try typeof var while with implements interface let package private protected public static yield ' +
    'u8 u16 u32 u64 i8 i16 i32 i64 bool Ptr FixedArray CharArray').split(' '),
);
const tsName = (c: string): string => (RESERVED.has(c) ? `${c}_` : c);

class Generator {
  private readonly declared = new Map<number, string>();
  private readonly queue: number[] = [];
  private readonly out: string[] = [];
  private readonly opaque = new Set<string>();

  constructor(private readonly btf: Btf) {}

  private structId(name: string): number | undefined {
    return this.btf.typeByName(name, BtfKind.STRUCT)?.id ?? this.btf.typeByName(name, BtfKind.UNION)?.id;
  }

  /** Declares a struct in full (and what it embeds). */
  declare(id: number): string {
    const known = this.declared.get(id);
    if (known) return known;
    const t = this.btf.type(id) as Extract<BtfType, { kind: 4 | 5 }>;
    const name = tsName(t.name);
    this.declared.set(id, name);
    this.queue.push(id);
    return name;
  }

  /** The TypeScript type of a member of type `id`. */
  type(id: number, full: boolean): string {
    const btf = this.btf;
    const rid = resolveType(btf, id);
    if (rid === 0) return 'unknown';
    const t = btf.type(rid);
    switch (t.kind) {
      case BtfKind.INT:
        if (t.encoding & 4) return 'bool';
        if (t.size > 8) return 'FixedArray<u64, 2>';
        return `${t.encoding & 1 ? 'i' : 'u'}${t.size * 8}`;
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
        return `${t.signed ? 'i' : 'u'}${t.size * 8}`;
      case BtfKind.FLOAT:
        return `FixedArray<u8, ${t.size}>`;
      case BtfKind.PTR: {
        const target = resolveType(btf, t.type);
        if (target === 0) return 'Ptr<unknown>';
        const tt = btf.type(target);
        if (tt.kind === BtfKind.STRUCT || tt.kind === BtfKind.UNION || tt.kind === BtfKind.FWD) return `Ptr<${this.referenced(tt.name, target)}>`;
        if (tt.kind === BtfKind.INT || tt.kind === BtfKind.ENUM || tt.kind === BtfKind.PTR) return `Ptr<${this.type(target, false)}>`;
        return 'u64';
      }
      case BtfKind.ARRAY: {
        const elem = resolveType(btf, t.type);
        const et = btf.type(elem);
        if (et.kind === BtfKind.INT && et.size === 1 && (et.encoding & 2 || et.name === 'char')) return `CharArray<${t.nelems}>`;
        return `FixedArray<${this.type(elem, full)}, ${t.nelems}>`;
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION:
        if (!t.name) return this.inline(rid);
        return this.declare(rid);
      default:
        return 'u64';
    }
  }

  /** A struct referred to by pointer: declared in full when selected, else opaque. */
  private referenced(name: string, id: number): string {
    if (!name) return 'unknown';
    if (name in ROOTS) {
      const full = this.structId(name);
      if (full !== undefined) return this.declare(full);
    }
    const known = this.declared.get(resolveType(this.btf, id));
    if (known) return known;
    this.opaque.add(tsName(name));
    return tsName(name);
  }

  /** An anonymous struct or union used as a member's type, as an inline object type. */
  private inline(id: number): string {
    return `{ ${this.members(id).join(' ')} }`;
  }

  /** Member declarations of a struct, anonymous members flattened as C lets you access them. */
  private members(id: number): string[] {
    const t = this.btf.type(id) as Extract<BtfType, { kind: 4 | 5 }>;
    const lines: string[] = [];
    for (const m of t.members) {
      if (m.name === '') {
        const inner = resolveType(this.btf, m.type);
        const it = this.btf.type(inner);
        if (it.kind === BtfKind.STRUCT || it.kind === BtfKind.UNION) lines.push(...this.members(inner));
        continue;
      }
      if (m.bitfieldSize !== 0) {
        lines.push(`/** ${m.bitfieldSize}-bit field: not readable by the dialect */ readonly ${m.name}?: never;`);
        continue;
      }
      lines.push(`${m.name}: ${this.type(m.type, true)};`);
    }
    return lines;
  }

  run(): string {
    const btf = this.btf;
    for (const name of Object.keys(ROOTS)) {
      const id = this.structId(name);
      if (id === undefined) throw new Error(`vmlinux has no struct ${name}`);
      this.declare(id);
    }
    // bpf_raw_tracepoint_args: args[] has no length in C; the compiler lets programs read up to 12.
    this.out.push('/** struct bpf_raw_tracepoint_args: the raw arguments of a raw tracepoint (up to 12). */\nexport interface bpf_raw_tracepoint_args {\n  args: FixedArray<u64, 12>;\n}');
    // Tracepoints typed by BTF (btf_trace_<name>): their arguments after the data pointer.
    const tps: string[] = [];
    const seen = new Set<string>();
    for (let id = 1; id < btf.typeCount; id++) {
      if (btf.kindOf(id) !== BtfKind.TYPEDEF) continue;
      const name = btf.nameOf(id);
      if (!name.startsWith('btf_trace_')) continue;
      const tp = name.slice('btf_trace_'.length);
      if (seen.has(tp)) continue;
      seen.add(tp);
      const ptr = btf.type(resolveType(btf, (btf.type(id) as { type: number }).type));
      if (ptr.kind !== BtfKind.PTR) continue;
      const proto = btf.type(ptr.type);
      if (proto.kind !== BtfKind.FUNC_PROTO) continue;
      const params = proto.params.slice(1).map((p, i) => `${p.name && /^[A-Za-z_]\w*$/.test(p.name) ? p.name : `arg${i}`}: ${this.type(p.type, false)}`);
      tps.push(`  ${tp}: [${params.join(', ')}];`);
    }
    while (this.queue.length > 0) {
      const id = this.queue.shift()!;
      const t = btf.type(id) as Extract<BtfType, { kind: 4 | 5 }>;
      const name = this.declared.get(id)!;
      const alias = Object.entries(ROOTS).find(([c]) => c === t.name)?.[1];
      const doc = alias ? `/** struct ${t.name} (${t.kind === BtfKind.UNION ? 'a union' : `${t.size} bytes`}); alias ${alias}. */` : `/** ${t.kind === BtfKind.UNION ? 'union' : 'struct'} ${t.name}. */`;
      if (t.name === 'bpf_raw_tracepoint_args') continue;
      this.out.push(`${doc}\nexport interface ${name} {\n${this.members(id).map((l) => `  ${l}`).join('\n')}\n}`);
    }
    for (const o of [...this.opaque].sort()) {
      if ([...this.declared.values()].includes(o)) continue;
      this.out.push(`/** struct ${o}: opaque here (the compiler reads its fields from kernel BTF). */\nexport interface ${o} {\n  readonly __opaque?: '${o}';\n}`);
    }
    const aliases = Object.entries(ROOTS).map(([c, a]) => `/** struct ${c}. */\nexport type ${a} = ${this.declared.get(this.structId(c)!) ?? tsName(c)};`);
    return `// Generated by src/compiler/gen/lang-kernel.ts from the running kernel's BTF; do not edit.
/**
 * Kernel types for kernel programs: the context structs of program types, packet headers,
 * and the kernel structs tracing programs commonly read (CO-RE: the compiler resolves fields
 * against the kernel's BTF at compile time and records relocations, so programs run on other
 * kernels too). Member names are the kernel's.
 */
import type { bool, CharArray, FixedArray, Ptr, i8, i16, i32, i64, u8, u16, u32, u64 } from './types.js';

${aliases.join('\n')}
/** struct bpf_cgroup_dev_ctx. */
export type CgroupDevCtx = bpf_cgroup_dev_ctx;
/** struct bpf_raw_tracepoint_args. */
export type BpfRawTracepointArgs = bpf_raw_tracepoint_args;

${this.out.join('\n\n')}

/** Tracepoints with BTF-typed arguments (tp_btf/<name>), from the kernel's btf_trace_<name> typedefs. */
export interface BtfTracepoints {
${tps.join('\n')}
}

/** Keeps every imported type used. */
export type KernelScalars = bool | i8 | i16 | i32 | i64 | u8 | u16 | u32 | u64 | CharArray<1>;
`;
  }
}

const path = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
const btf = parseBtf(readFileSync(path));
const text = new Generator(btf).run();
writeFileSync(new URL('../../../../src/lang/kernel.ts', import.meta.url), text);
const aliases = { ...Object.fromEntries(Object.entries(ROOTS).map(([c, a]) => [a, c])), ...EXTRA_ALIASES };
writeFileSync(
  new URL('../../../../src/compiler/kernel-aliases.ts', import.meta.url),
  `// Generated by src/compiler/gen/lang-kernel.ts from vmlinux BTF; do not edit.
/** PascalCase alias -> C name of each kernel type tsbpf/lang declares. */
export const KERNEL_TYPE_ALIASES: Record<string, string> = {
${Object.entries(aliases).map(([a, c]) => `  ${a}: '${c}',`).join('\n')}
};
`,
);
console.log(`src/lang/kernel.ts: ${text.length} bytes`);
