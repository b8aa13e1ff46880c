/** Helpers through real programs, on both engines, with the map models behind them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUbpf } from '../../src/asm/ubpf.js';
import { VmErrorKind } from '../../src/vm/errors.js';
import { conformanceHelpers, standardHelpers } from '../../src/vm/helpers.js';
import { formatPrintk } from '../../src/vm/printk.js';
import { ArrayMap, createMap, Errno, type HashMap, MapType, type QueueMap, type RingBuffer } from '../../src/vm/maps/index.js';
import { Vm } from '../../src/vm/vm.js';
import { ENGINES, readU64, run, throwsVm, u32, u64 } from './util.js';

const hash = (): HashMap => createMap({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, name: 'counts' }) as HashMap;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

for (const engine of ENGINES) {
  test(`[${engine}] map_update/lookup/delete_elem on a hash map, with atomics on the value`, () => {
    const counts = hash();
    const src = `
      stw [%r10-4], 7            # key = 7
      stdw [%r10-16], 40         # value = 40
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0                 # BPF_ANY
      call 2
      mov %r6, %r0               # 0
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, fail
      mov %r1, 2
      lock add [%r0], %r1        # 42
      mov %r7, %r0
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -4
      call 1
      jne %r0, %r7, fail         # same element, same pointer
      ldxdw %r0, [%r0]
      add %r0, %r6
      exit
    fail:
      mov %r0, -1
      exit`;
    assert.equal(run(src, engine, { maps: [counts] }), 42n);
    assert.equal(readU64(counts.lookup(u32(7))!), 42n);
    const del = `stw [%r10-4], 7\nldmapfd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit`;
    assert.equal(run(del, engine, { maps: [counts] }), 0n);
    assert.equal(BigInt.asIntN(64, run(del, engine, { maps: [counts] })), BigInt(-Errno.ENOENT));
    const miss = `stw [%r10-4], 7\nldmapfd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit`;
    assert.equal(run(miss, engine, { maps: [counts] }), 0n);
  });

  test(`[${engine}] map values are bounds-checked regions; a NOEXIST update returns -EEXIST`, () => {
    const counts = hash();
    counts.update(u32(1), u64(5n));
    const src = `stw [%r10-4], 1\nldmapfd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0+4]\nexit`;
    const e = throwsVm(() => run(src, engine, { maps: [counts] }), VmErrorKind.OUT_OF_BOUNDS, 6);
    assert.match(e.message, /value of map counts/);
    const noexist = `stw [%r10-4], 1\nstdw [%r10-16], 0\nldmapfd %r1, 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 1\ncall 2\nexit`;
    assert.equal(BigInt.asIntN(64, run(noexist, engine, { maps: [counts] })), BigInt(-Errno.EEXIST));
    // The map argument must be a map pointer.
    throwsVm(() => run('mov %r1, %r10\nmov %r2, %r10\ncall 1\nexit', engine), VmErrorKind.BAD_MAP, 2);
  });

  test(`[${engine}] direct map value access (ldmapvalue) into an array map, kept across runs`, () => {
    const bss = createMap({ type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, name: '.bss' }) as ArrayMap;
    const vm = new Vm(parseUbpf('ldmapvalue %r1, 0, 8\nldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nexit'), { engine, maps: [bss] });
    assert.equal(vm.run(), 1n);
    assert.equal(vm.run(), 2n);
    assert.equal(readU64(bss.lookup(u32(0))!, 8), 2n);
    throwsVm(() => new Vm(parseUbpf('ldmapvalue %r1, 0, 16\nexit'), { maps: [bss] }), VmErrorKind.BAD_MAP, 0);
    throwsVm(() => new Vm(parseUbpf('ldmapvalue %r1, 0, 0\nexit'), { maps: [hash()] }), VmErrorKind.BAD_MAP, 0);
  });

  test(`[${engine}] per-CPU maps: lookups see the running CPU's slot; map_lookup_percpu_elem picks one`, () => {
    const pc = new ArrayMap({ type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }, { cpus: 4 });
    pc.updateAll(u32(0), [u64(10n), u64(11n), u64(12n), u64(13n)]);
    const own = 'stw [%r10-4], 0\nldmapfd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0]\nexit';
    assert.equal(run(own, engine, { maps: [pc], cpu: 2 }), 12n);
    const other = 'stw [%r10-4], 0\nldmapfd %r1, 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, 3\ncall 195\nldxdw %r0, [%r0]\nexit';
    assert.equal(run(other, engine, { maps: [pc], cpu: 0 }), 13n);
    assert.equal(run('call 8\nexit', engine, { cpu: 3 }), 3n);
  });

  test(`[${engine}] map_push/pop/peek_elem on a queue`, () => {
    const q = createMap({ type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 2 }) as QueueMap;
    const src = `
      ldmapfd %r1, 0
      stdw [%r10-8], 5
      mov %r2, %r10
      add %r2, -8
      mov %r3, 0
      call 87                    # push 5
      ldmapfd %r1, 0
      stdw [%r10-8], 6
      mov %r2, %r10
      add %r2, -8
      mov %r3, 0
      call 87                    # push 6
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -16
      call 89                    # peek: 5
      ldxdw %r6, [%r10-16]
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -16
      call 88                    # pop: 5
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -24
      call 88                    # pop: 6
      ldxdw %r7, [%r10-24]
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -24
      call 88                    # empty: -ENOENT
      mov %r8, %r0
      mov %r0, %r6
      lsh %r0, 8
      or %r0, %r7
      lsh %r0, 8
      neg %r8
      or %r0, %r8
      exit`;
    assert.equal(run(src, engine, { maps: [q] }), (5n << 16n) | (6n << 8n) | BigInt(Errno.ENOENT));
    assert.equal(q.size, 0);
  });

  test(`[${engine}] ring buffer: reserve, write, submit, discard, output, query; records end at submit`, () => {
    const rb = createMap({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBuffer;
    const src = `
      ldmapfd %r1, 0
      mov %r2, 8
      mov %r3, 0
      call 131                   # reserve 8
      jeq %r0, 0, fail
      stdw [%r0], 0x1234
      mov %r1, %r0
      mov %r2, 0
      call 132                   # submit
      ldmapfd %r1, 0
      mov %r2, 4
      mov %r3, 0
      call 131
      jeq %r0, 0, fail
      mov %r1, %r0
      mov %r2, 0
      call 133                   # discard
      stw [%r10-4], 0xabcd
      ldmapfd %r1, 0
      mov %r2, %r10
      add %r2, -4
      mov %r3, 4
      mov %r4, 0
      call 130                   # output 4 bytes
      jne %r0, 0, fail
      ldmapfd %r1, 0
      mov %r2, 0
      call 134                   # available data: 16 + 16 + 16
      exit
    fail:
      mov %r0, -1
      exit`;
    assert.equal(run(src, engine, { maps: [rb] }), 48n);
    assert.deepEqual(rb.consume(), [u64(0x1234n), u32(0xabcd)]);
    const useAfterSubmit = `
      ldmapfd %r1, 0
      mov %r2, 8
      mov %r3, 0
      call 131
      mov %r6, %r0
      mov %r1, %r0
      mov %r2, 0
      call 132
      stdw [%r6], 1
      exit`;
    throwsVm(() => run(useAfterSubmit, engine, { maps: [rb] }), VmErrorKind.UNMAPPED, 9);
    throwsVm(() => run('mov %r1, %r10\nmov %r2, 0\ncall 132\nexit', engine, { maps: [rb] }), VmErrorKind.HELPER, 2);
    // Too big a reservation gives NULL.
    assert.equal(run('ldmapfd %r1, 0\nmov %r2, 5000\nmov %r3, 0\ncall 131\nexit', engine, { maps: [rb] }), 0n);
  });

  test(`[${engine}] trace_printk formats like the kernel and collects the output`, () => {
    const ctx = new Uint8Array(64);
    const fmt1 = 'n=%d u=%u x=%x\0';
    ctx.set(text(fmt1), 0);
    const vm = new Vm(parseUbpf(`mov %r2, ${fmt1.length}\nmov %r3, -3\nmov %r4, 255\nmov %r5, 4096\ncall 6\nexit`), { engine, context: ctx });
    assert.equal(vm.run(), 17n);
    assert.deepEqual(vm.trace, ['n=-3 u=255 x=1000']);
    const fmt2 = '%d %s %c|%5d|%-3d|%03x%%\0';
    ctx.set(text(fmt2), 0);
    ctx.set(text('hello\0'), 48);
    const vm2 = new Vm(parseUbpf(`mov %r2, ${fmt2.length}\nmov %r3, 7\nmov %r4, %r1\nadd %r4, 48\nmov %r5, 65\ncall 6\nexit`), {
      engine,
      context: ctx,
    });
    const seen: string[] = [];
    const len = vm2.run();
    assert.equal(vm2.trace[0], '7 hello A|    0|0  |000%');
    assert.equal(len, BigInt(vm2.trace[0]!.length));
    const vm3 = new Vm(parseUbpf('mov %r2, 2\ncall 6\nexit'), { engine, context: text('%d'), env: { onTrace: (m) => seen.push(m) } });
    assert.equal(BigInt.asIntN(64, vm3.run()), BigInt(-Errno.EINVAL), 'the format must be NUL-terminated within its size');
    assert.deepEqual(seen, []);
  });

  test(`[${engine}] task, time and randomness helpers read the environment`, () => {
    const env = { pid: 100, tgid: 50, uid: 1000, gid: 20, comm: 'my-program-name-too-long', clock: () => 123456789n, seed: 7 };
    assert.equal(run('call 14\nexit', engine, { env }), (50n << 32n) | 100n);
    assert.equal(run('call 15\nexit', engine, { env }), (20n << 32n) | 1000n);
    assert.equal(run('call 5\nexit', engine, { env }), 123456789n);
    const ctx = new Uint8Array(16).fill(0xff);
    assert.equal(run('mov %r2, 16\ncall 16\nexit', engine, { env, context: ctx }), 0n);
    assert.equal(new TextDecoder().decode(ctx.subarray(0, 15)), 'my-program-name');
    assert.equal(ctx[15], 0);
    const small = new Uint8Array(4).fill(0xff);
    run('mov %r2, 4\ncall 16\nexit', engine, { env, context: small });
    assert.deepEqual([...small], [0x6d, 0x79, 0x2d, 0]);
    const a = new Vm(parseUbpf('call 7\nmov %r6, %r0\ncall 7\nlsh %r0, 32\nor %r0, %r6\nexit'), { engine, env });
    const b = new Vm(parseUbpf('call 7\nmov %r6, %r0\ncall 7\nlsh %r0, 32\nor %r0, %r6\nexit'), { engine, env });
    const ra = a.run();
    assert.equal(ra, b.run(), 'the same seed gives the same numbers');
    assert.notEqual(ra & 0xffffffffn, ra >> 32n);
    assert.notEqual(a.run(), ra, 'the generator moves on');
  });

  test(`[${engine}] probe_read_kernel/user(_str) read mocked memory; faults give -EFAULT and zeroes`, () => {
    const env = {
      kernelMemory: [{ address: 0xffff888000001000n, bytes: text('kernel-data\0') }],
      userMemory: [{ address: 0x7f0000000000n, bytes: text('user\0') }],
    };
    const ctx = new Uint8Array(16).fill(0xee);
    const read = (helper: number, addr: bigint, size = 8): bigint =>
      run(`mov %r2, ${size}\nlddw %r3, 0x${addr.toString(16)}\ncall ${helper}\nexit`, engine, { env, context: ctx });
    assert.equal(read(113, 0xffff888000001000n), 0n);
    assert.equal(new TextDecoder().decode(ctx.subarray(0, 8)), 'kernel-d');
    assert.equal(BigInt.asIntN(64, read(113, 0x7f0000000000n)), BigInt(-Errno.EFAULT));
    assert.deepEqual([...ctx.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(read(112, 0x7f0000000000n, 4), 0n);
    ctx.fill(0xee);
    assert.equal(read(115, 0xffff888000001000n, 16), 12n);
    assert.equal(new TextDecoder().decode(ctx.subarray(0, 12)), 'kernel-data\0');
    assert.equal(read(114, 0x7f0000000000n, 3), 3n);
    assert.deepEqual([...ctx.subarray(0, 3)], [0x75, 0x73, 0]);
    assert.equal(read(4, 0xffff888000001000n + 7n, 4), 0n, 'probe_read reads either');
    // The VM's own memory is readable too.
    assert.equal(run('stdw [%r10-8], 77\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -8\ncall 113\nldxdw %r0, [%r1]\nexit', engine, { context: ctx }), 77n);
  });

  test(`[${engine}] callx: helper ids and function pointers; anything else is an error`, () => {
    assert.equal(run('mov %r2, 8\ncallx %r2\nexit', engine, { cpu: 5 }), 5n);
    const fp = 'ldfunc %r2, f\nmov %r1, 20\ncallx %r2\nadd %r0, 1\nexit\nf: mov %r0, %r1\nadd %r0, %r1\nexit';
    assert.equal(run(fp, engine), 41n);
    throwsVm(() => run('mov %r2, 99999\ncallx %r2\nexit', engine), VmErrorKind.BAD_CALL_TARGET, 1);
    throwsVm(() => run('mov %r2, %r10\ncallx %r2\nexit', engine), VmErrorKind.BAD_CALL_TARGET, 1);
  });

  test(`[${engine}] custom helpers and kfuncs; a helper can end the program`, () => {
    const helpers = new Map([...standardHelpers(), [1000, (_vm: unknown, a: bigint, b: bigint) => a * b + 1n]]);
    assert.equal(run('mov %r1, 6\nmov %r2, 7\ncall 1000\nexit', engine, { helpers }), 43n);
    const kfuncs = new Map([[77, (_vm: unknown, a: bigint) => a - 1n]]);
    assert.equal(run('mov %r1, 0\ncall runtime 77\nexit', engine, { kfuncs }), 0xffffffffffffffffn);
    assert.equal(run('mov %r1, 0\ncall 5\nmov %r0, 2\nexit', engine, { helpers: conformanceHelpers() }), 0n);
    assert.equal(run('mov %r1, 9\ncall 5\nexit', engine, { helpers: conformanceHelpers() }), 9n);
  });
}

test('formatPrintk: conversions, length modifiers, flags, widths, strings, pointers', () => {
  const str = (a: bigint): string | undefined => (a === 1n ? 'str' : undefined);
  assert.equal(formatPrintk('%d %i %u %x %X', [-1n, 5n, -1n], str), '-1 5 4294967295 0 0');
  assert.equal(formatPrintk('%lld %llu %llx %lx', [-1n, -1n, 255n, 16n], str), '-1 18446744073709551615 ff 10');
  assert.equal(formatPrintk('[%5d][%-5d][%05d][%+d][%#x]', [42n, 42n, -42n, 3n, 255n], str), '[   42][42   ][-0042][+3][0xff]');
  assert.equal(formatPrintk('%s|%s|%c%c', [1n, 2n, 104n, 105n], str), 'str|(efault)|hi');
  assert.equal(formatPrintk('%p %pK %ps %% %q', [0x1234n, 1n, 1n], str), '0x1234 0x1 str % %q');
  assert.equal(formatPrintk('%999999999d', [1n], str).length, 512);
  assert.equal(formatPrintk('%hd %hhu', [0x18000n, 0x1ffn], str), '-32768 255');
});
