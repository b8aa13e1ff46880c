/**
 * Compiled objects in the kernel (that every program loads with tsbpf's loader and with libbpf
 * is interop.test.ts): snippets run (BPF_PROG_TEST_RUN) compute what they compute in the VM and
 * load with libbpf too; the exec example sees an execve this test makes; CO-RE reads the
 * parent's pid through task.real_parent.tgid; a verifier rejection points at the TypeScript
 * line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compile, compileFile, type CompileResult } from '../../src/compiler/index.js';
import { RingBufReader } from '../../src/events/index.js';
import { btfCodec, Collection, VerifierError } from '../../src/kernel/index.js';
import '../../src/link/index.js';
import { kernelTest } from '../support/kernel.js';
import fc from 'fast-check';
import { bpftoolLoadall } from './bpftool.js';
import { randomPrograms } from './random-programs.js';
import { LOCKED_UPDATE, SNIPPETS } from './snippets.js';
import { argsContext, build, le, readLe, wrap } from './support.js';

const DIR = 'testdata/compiler';

kernelTest('snippets run in the kernel (BPF_PROG_TEST_RUN) with the results they give in the VM', () => {
  for (const s of SNIPPETS) {
    const result = build(wrap(s.body, s.decls ?? ''));
    const coll = Collection.load(result.spec);
    try {
      // Raw tracepoints take only ctx_in (no output buffers): the u64 arguments.
      const out = coll.programs.prog!.testRun({ ctx: argsContext(s.args ?? []), ctxOutSize: 0 });
      assert.equal(out.retval | 0, s.want, s.name);
    } finally {
      coll.close();
    }
    const lib = bpftoolLoadall(result.object, s.name);
    assert.ok(lib.ok, `${s.name}: ${lib.log}`);
  }
});

kernelTest('random integer programs pass the verifier and compute in the kernel what they compute in JavaScript', () => {
  for (const { body, args, want } of fc.sample(randomPrograms(), { numRuns: 60, seed: 42 })) {
    const result = build(wrap(body));
    const coll = Collection.load(result.spec);
    try {
      const out = coll.programs.prog!.testRun({ ctx: argsContext(args), ctxOutSize: 0 });
      assert.equal(BigInt(out.retval >>> 0), want, `${body}\ninputs ${args.join(' ')}`);
    } finally {
      coll.close();
    }
  }
}, { timeout: 120_000 });

/** Collects ring buffer records for `ms` after `action`. */
async function records(coll: Collection, map: string, action: () => void, ms = 800): Promise<Uint8Array[]> {
  const reader = RingBufReader.open(coll.maps[map]!);
  try {
    coll.attachAll();
    action();
    const out: Uint8Array[] = [];
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    try {
      for await (const rec of reader.records({ signal: ac.signal })) out.push(new Uint8Array(rec.data));
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    } finally {
      clearTimeout(timer);
    }
    return out;
  } finally {
    reader.close();
  }
}

kernelTest("the design brief's exec example sees an execve this test makes", async () => {
  const result: CompileResult = compileFile(join(DIR, 'exec.bpf.ts'));
  const coll = Collection.load(result.spec);
  try {
    const decode = btfCodec<{ pid: number; comm: string }>(result.spec.btf!, result.spec.btf!.typeByName('ExecEvent')!.id);
    let child = 0;
    const recs = await records(coll, 'events', () => {
      child = spawnSync('/bin/true').pid!;
    });
    const mine = recs.map((r) => decode.decode(r)).filter((e) => e.pid === child);
    assert.equal(mine.length, 1, `one ExecEvent for pid ${child}`);
    // sys_enter_execve runs before the new image replaces the comm: the child is still node.
    const key = new Uint8Array(16);
    key.set(new TextEncoder().encode(mine[0]!.comm));
    assert.ok(readLe(coll.maps.counts!.lookupBytes(key), 0, 8) >= 1n, `counts[${mine[0]!.comm}] went up`);
  } finally {
    coll.close();
  }
});

kernelTest('CO-RE: task.real_parent.tgid in tp_btf/sched_process_exit is the pid of the parent', async () => {
  const result = compileFile(join(DIR, 'exits.bpf.ts'));
  const relos = result.spec.programs[0]!.coreRelos.map((r) => r.relo.accessStr);
  assert.ok(relos.length >= 4, `CO-RE relocations: ${relos.join(', ')}`);
  const coll = Collection.load(result.spec);
  try {
    const decode = btfCodec<{ pid: number; ppid: number; ppidProbed: number; comm: string }>(result.spec.btf!, result.spec.btf!.typeByName('ExitEvent')!.id);
    let child = 0;
    const recs = await records(coll, 'events', () => {
      child = spawnSync('/bin/true').pid!;
    });
    const exits = recs.map((r) => decode.decode(r)).filter((e) => e.pid === child);
    assert.equal(exits.length, 1);
    assert.equal(exits[0]!.ppid, process.pid, 'direct BTF loads');
    assert.equal(exits[0]!.ppidProbed, process.pid, 'bpf_probe_read_kernel');
    assert.equal(exits[0]!.comm, 'true');
  } finally {
    coll.close();
  }
});

kernelTest('a verifier rejection is reported on the TypeScript line', () => {
  // Two bounded loops, each provable, whose 9M iterations together exceed what the verifier
  // walks (1M instructions): a limit the compiler does not model.
  const source = `import { rawTracepoint, license, type u32 } from 'tsbpf/lang';

export const heavy = rawTracepoint('sys_enter', () => {
  let s: u32 = 0;
  for (let i: u32 = 0; i < 3000; i++) {
    for (let j: u32 = 0; j < 3000; j++) {
      s += j ^ i;
    }
  }
  return s;
});

license('GPL');
`;
  const result = compile(source, { fileName: 'heavy.bpf.ts' });
  try {
    Collection.load(result.spec).close();
    assert.fail('the verifier accepted it');
  } catch (e) {
    assert.ok(e instanceof VerifierError, String(e));
    assert.match(e.reason, /too large|processed/i);
    assert.equal(e.source?.fileName, 'heavy.bpf.ts');
    assert.ok(e.source && e.source.line >= 5 && e.source.line <= 8, `line ${e.source?.line}: ${e.source?.lineText}`);
    assert.match(e.message, /heavy\.bpf\.ts:\d+:\d+/);
    assert.ok(e.message.includes(`(${e.source.lineText.trim()})`), 'the message shows the source line');
  }
}, { timeout: 120_000 });

kernelTest("a verifier rejection names the TypeScript file and line, shows the line, the verifier's reason and its log", () => {
  // A program compiled against another kernel's BTF, whose task_struct has a field this kernel's
  // lacks: the compiler saw the field, so only the load can find it missing. The loader poisons
  // the CO-RE relocation as libbpf does, and the verifier rejects the reachable poisoned call at
  // line 6. (Helper calls under a spin lock, the case this test used before, are compile errors.)
  const PRE = "import { rawTracepoint, HashMap, helpers as bpf, license, u32, type i32, type u64 } from 'tsbpf/lang';\n";
  const otherKernel = build(`${PRE}interface task_struct { pid: i32; tgid: i32; tsbpf_gone: u64 }\nexport const m = new HashMap<u32, task_struct>({ maxEntries: 1 });\nexport const p = rawTracepoint('x', () => 0);\nlicense('GPL');\n`).spec.btfBytes!;
  const source = `${PRE}
export const gone = rawTracepoint('sys_enter', () => {
  const task = bpf.getCurrentTask();
  const pid = task.pid;
  const v = task.tsbpf_gone;
  return u32(v) + u32(pid);
});

license('GPL');
`;
  const result = compile(source, { fileName: 'gone.bpf.ts', kernelBtf: otherKernel });
  assert.throws(
    () => Collection.load(result.spec).close(),
    (e: unknown) => {
      assert.ok(e instanceof VerifierError, String(e));
      assert.equal(e.program, 'gone');
      assert.match(e.reason, /^invalid func unknown#195896080: a CO-RE relocation that could not be resolved against this kernel/);
      assert.deepEqual({ file: e.source?.fileName, line: e.source?.line, text: e.source?.lineText.trim() }, { file: 'gone.bpf.ts', line: 6, text: 'const v = task.tsbpf_gone;' });
      const [first, ...log] = e.message.split('\n');
      assert.match(first!, /^the verifier rejected program 'gone' at gone\.bpf\.ts:6:\d+ \(const v = task\.tsbpf_gone;\): invalid func unknown#195896080: /);
      // The log lines leading to it, annotated with the TypeScript lines (from line_info).
      const shown = log.join('\n');
      assert.match(shown, /; const pid = task\.pid; @ gone\.bpf\.ts:5/);
      assert.match(shown, /; const v = task\.tsbpf_gone; @ gone\.bpf\.ts:6/);
      assert.match(shown, /call bpf_probe_read_kernel/);
      assert.match(shown, /call unknown#195896080/);
      return true;
    },
  );
});

kernelTest('spin locks: a correct locked update passes the verifier and counts as in the VM', () => {
  const result = build(LOCKED_UPDATE);
  const coll = Collection.load(result.spec);
  try {
    const verdicts = [0, 1, 2].map(() => coll.programs.locked!.testRun({ data: packet(17, 9) }).retval);
    assert.deepEqual(verdicts, [2, 2, 1]);
    const value = coll.maps.counters!.lookupBytes(le(1, 4))!;
    assert.equal(readLe(value, 8, 8), 21n, 'n');
    assert.equal(readLe(value, 24, 8), 16n, 'big');
    assert.ok(readLe(value, 16, 8) > 0n, 'at: the clock read before the lock');
  } finally {
    coll.close();
  }
});

kernelTest('packetAt with a run-time offset passes the verifier (the compiler bounds the offset to its 64 KiB limit first)', () => {
  const result = build(`import { xdp, XdpAction, packetAt, license, u32, type u8 } from 'tsbpf/lang';
interface Ip { vihl: u8; tos: u8 }
interface Udp { sport: u8; sport2: u8; dport: u8; dport2: u8 }
export const p = xdp((ctx) => {
  const ip = packetAt<Ip>(ctx, 14);
  if (!ip) return XdpAction.PASS;
  const udp = packetAt<Udp>(ctx, 14 + u32(ip.vihl & 15) * 4);
  if (!udp) return XdpAction.ABORTED;
  const far = packetAt<Udp>(ctx, ctx.ingress_ifindex + 60000);
  if (far) return XdpAction.TX;
  return udp.dport2 === 9 ? XdpAction.DROP : XdpAction.PASS;
});
license('GPL');
`);
  const coll = Collection.load(result.spec);
  try {
    assert.equal(coll.programs.p!.testRun({ data: packet(17, 9) }).retval, 1, 'UDP to port 9: XDP_DROP');
    assert.equal(coll.programs.p!.testRun({ data: packet(17, 53) }).retval, 2, 'UDP to port 53: XDP_PASS');
  } finally {
    coll.close();
  }
});

/** An Ethernet + IPv4 + UDP/TCP packet. */
function packet(protocol: number, dport: number): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x08, 0x00], 12); // ETH_P_IP
  p[14] = 0x45; // IPv4, 20-byte header
  p[23] = protocol;
  p.set([dport >> 8, dport & 0xff], 36);
  return p;
}

kernelTest('XDP: packet access through packetAt, verdicts and per-protocol counts (test run)', () => {
  const result = compileFile(join(DIR, 'xdp.bpf.ts'));
  const coll = Collection.load(result.spec);
  try {
    const prog = coll.programs.filter!;
    assert.equal(prog.testRun({ data: packet(17, 9) }).retval, 1, 'UDP to port 9: XDP_DROP');
    assert.equal(prog.testRun({ data: packet(17, 53) }).retval, 2, 'UDP to port 53: XDP_PASS');
    assert.equal(prog.testRun({ data: packet(6, 9) }).retval, 2, 'TCP: XDP_PASS');
    assert.equal(prog.testRun({ data: new Uint8Array(14) }).retval, 2, 'not IPv4: XDP_PASS');
    const perCpu = coll.maps.protocols!.lookupBytes(le(17, 4));
    let udp = 0n;
    for (let off = 0; perCpu && off < perCpu.length; off += 8) udp += readLe(perCpu, off, 8);
    assert.equal(udp, 2n);
  } finally {
    coll.close();
  }
});

kernelTest('TC and socket filter: context fields read and written (test run)', () => {
  const tc = Collection.load(compileFile(join(DIR, 'tc.bpf.ts')).spec);
  try {
    const out = tc.programs.ingress!.testRun({ data: packet(6, 80), ctx: new Uint8Array(192) });
    assert.equal(out.retval, 0, 'TC_ACT_OK');
    assert.equal(readLe(tc.maps.bytes!.lookupBytes(le(42, 4)), 0, 8), 64n, '64 bytes counted under mark 42');
  } finally {
    tc.close();
  }
  const sock = Collection.load(compileFile(join(DIR, 'socket.bpf.ts')).spec);
  try {
    const big = new Uint8Array(200);
    big.set(packet(6, 80));
    assert.equal(sock.programs.truncate!.testRun({ data: big }).retval, 64);
  } finally {
    sock.close();
  }
});
