/**
 * The context access table (src/compiler/context-access.ts) against the running kernel's
 * verifier: every (program type, field, read/write) the table allows compiles from the dialect and
 * loads; and, probed with hand-built instructions at every aligned offset and width, the kernel
 * accepts each access the table allows and refuses the ones it refuses (apart from a listed few
 * where the table is deliberately stricter).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgramBuilder, R0, R1, R2, reg } from '../../src/asm/index.js';
import { checkContextAccess, CONTEXT_RULES, type ContextRules } from '../../src/compiler/context-access.js';
import { compile } from '../../src/compiler/index.js';
import { KernelTypes, VMLINUX_BTF } from '../../src/compiler/kernel-types.js';
import { sizeOf, type StructType } from '../../src/compiler/types.js';
import { Collection, Program, VerifierError, type ProgramLoadOptions } from '../../src/kernel/index.js';
import { kernelTest } from '../support/kernel.js';

/** How each table entry is declared in the dialect and loaded as raw instructions. */
const KINDS: Record<string, { declare: string; load: Pick<ProgramLoadOptions, 'type' | 'expectedAttachType'> }> = {
  socketFilter: { declare: 'socketFilter(', load: { type: 'SOCKET_FILTER' } },
  tc: { declare: "tc('ingress', ", load: { type: 'SCHED_CLS' } },
  cgroupSkb: { declare: "cgroupSkb('egress', ", load: { type: 'CGROUP_SKB', expectedAttachType: 'CGROUP_INET_EGRESS' } },
  xdp: { declare: 'xdp(', load: { type: 'XDP' } },
  "cgroupSock('sock_create')": { declare: "cgroupSock('sock_create', ", load: { type: 'CGROUP_SOCK', expectedAttachType: 'CGROUP_INET_SOCK_CREATE' } },
  "cgroupSock('sock_release')": { declare: "cgroupSock('sock_release', ", load: { type: 'CGROUP_SOCK', expectedAttachType: 'CGROUP_INET_SOCK_RELEASE' } },
  "cgroupSock('post_bind4')": { declare: "cgroupSock('post_bind4', ", load: { type: 'CGROUP_SOCK', expectedAttachType: 'CGROUP_INET4_POST_BIND' } },
  "cgroupSock('post_bind6')": { declare: "cgroupSock('post_bind6', ", load: { type: 'CGROUP_SOCK', expectedAttachType: 'CGROUP_INET6_POST_BIND' } },
  cgroupDev: { declare: 'cgroupDev(', load: { type: 'CGROUP_DEVICE', expectedAttachType: 'CGROUP_DEVICE' } },
  perfEvent: { declare: 'perfEvent(', load: { type: 'PERF_EVENT' } },
};

/**
 * Accesses the kernel allows that the table refuses on purpose: bpf_sock.dst_port is a __be16 in
 * the uapi struct (followed by 16 bits of padding), and the verifier also takes a u32 load of it.
 */
const STRICTER = new Set(["bpf_sock.dst_port read 4@48"]);

function structOf(kernel: KernelTypes, c: ContextRules): StructType {
  return kernel.contextStruct(c.cName, undefined);
}

test('the table covers every structured context the compiler gives programs', () => {
  assert.deepEqual(CONTEXT_RULES.map((c) => c.kind).sort(), Object.keys(KINDS).sort());
});

/** The dialect expression of `field` (its first element or member, for arrays and structs). */
function access(kernel: KernelTypes, s: StructType, name: string): { expr: string; zero: string } {
  const f = s.fields.find((x) => x.name === name)!;
  let t = f.type;
  let expr = `ctx.${name}`;
  if (t.kind === 'array') {
    t = t.elem;
    expr += '[0]';
  } else if (t.kind === 'struct') {
    const first = kernel.member(t, kernel.memberNames(t, undefined)[0]!, undefined)!;
    expr += `.${first.name}`;
    t = first.type;
  }
  return { expr, zero: sizeOf(t) === 8 ? '0n' : '0' };
}

kernelTest('every context access the table allows compiles from the dialect and passes the verifier', () => {
  const kernel = new KernelTypes(VMLINUX_BTF);
  for (const c of CONTEXT_RULES) {
    const k = KINDS[c.kind]!;
    const s = structOf(kernel, c);
    const programs: string[] = [];
    for (const [name, a] of Object.entries(c.fields)) {
      const { expr, zero } = access(kernel, s, name);
      if (a.read.length) programs.push(`export const r_${name} = ${k.declare}(ctx) => { if (${expr} !== ${zero}) return 1; return 0; });`);
      if (a.write.length) programs.push(`export const w_${name} = ${k.declare}(ctx) => { ${expr} = ${zero === '0n' ? '1n' : '1'}; return 0; });`);
    }
    const imports = 'socketFilter, tc, cgroupSkb, xdp, cgroupSock, cgroupDev, perfEvent, license';
    const source = `import { ${imports} } from 'tsbpf/lang';\n${programs.join('\n')}\nlicense('GPL');\n`;
    const result = compile(source, { fileName: `${c.kind}.bpf.ts` });
    const coll = Collection.load(result.spec);
    try {
      assert.equal(Object.keys(coll.programs).length, programs.length, c.kind);
    } finally {
      coll.close();
    }
  }
}, { timeout: 120_000 });

/** Loads one instruction touching the context; true when the verifier accepts it. */
function kernelAccepts(load: Pick<ProgramLoadOptions, 'type' | 'expectedAttachType'>, off: number, size: number, write: boolean): boolean {
  const b = new ProgramBuilder();
  const width = (size * 8) as 8 | 16 | 32 | 64;
  if (write) b.mov(R2, 0).store(width, R1, off, reg(R2));
  else b.load(width, R2, R1, off);
  const built = b.mov(R0, 0).exit().build();
  try {
    Program.load({ ...load, license: 'GPL', name: 'ctx_probe', instructions: built.instructions }).close();
    return true;
  } catch (e) {
    if (e instanceof VerifierError && /invalid bpf_context access|cannot write into|invalid access to/.test(e.log)) return false;
    throw e;
  }
}

kernelTest('the kernel accepts exactly the context accesses the table allows, at every aligned offset and width', () => {
  const kernel = new KernelTypes(VMLINUX_BTF);
  const wrong: string[] = [];
  let probes = 0;
  for (const c of CONTEXT_RULES) {
    const k = KINDS[c.kind]!;
    const s = structOf(kernel, c);
    for (const write of [false, true]) {
      for (const size of [1, 2, 4, 8]) {
        for (let off = 0; off + size <= s.size; off += size) {
          const table = checkContextAccess(c, s, off, size, write) === undefined;
          const real = kernelAccepts(k.load, off, size, write);
          probes++;
          const key = `${s.cName}.${s.fields.find((f) => off >= f.offset && off < f.offset + sizeOf(f.type))?.name ?? '(padding)'} ${write ? 'write' : 'read'} ${size}@${off}`;
          if (table && !real) wrong.push(`${c.kind}: the table allows ${key}; the kernel refuses it`);
          if (!table && real && !STRICTER.has(key)) wrong.push(`${c.kind}: the table refuses ${key}; the kernel accepts it`);
        }
      }
    }
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${probes} probes disagree`);
}, { timeout: 300_000 });
