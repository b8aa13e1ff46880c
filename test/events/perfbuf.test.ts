import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PerfBufReader, possibleCpus, type PerfEvent } from '../../src/events/index.js';
import { BpfMap } from '../../src/kernel/index.js';
import { bpf, Errno, openFds } from '../../src/sys/index.js';
import { kernelTest } from '../support/kernel.js';
import { attachTracepoint, checkEvent, createCfg, GetppidChild, loadTracepoint, perfbufProgram, procFds, readCfg, setTarget } from './support.js';

function setup(eventSize: number, cpu = -1) {
  const cfg = createCfg();
  const events = BpfMap.create({ type: 'PERF_EVENT_ARRAY', keySize: 4, valueSize: 4, maxEntries: possibleCpus().length, name: 'ev_perf' });
  const prog = loadTracepoint(perfbufProgram(eventSize), { cfg, events }, 'ev_perfbuf');
  const link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
  const child = new GetppidChild(cpu);
  setTarget(cfg, child.pid);
  return {
    cfg,
    events,
    child,
    [Symbol.asyncDispose]: async () => {
      await child.end();
      link.close();
      prog.close();
      events.close();
      cfg.close();
    },
  };
}

/** The raw data size the kernel reports: `u32 size` + data padded to 8 bytes, minus the u32. */
const rawSize = (n: number): number => Math.ceil((n + 4) / 8) * 8 - 4;

function mappings(): number {
  return readFileSync('/proc/self/maps', 'latin1').split('\n').filter((l) => /anon_inode:(bpf-map|\[perf_event\])/.test(l)).length;
}

kernelTest('perf buffer: exactly the samples the program wrote, with contents and CPU', async () => {
  await using s = setup(32);
  using reader = PerfBufReader.open(s.events);
  assert.deepEqual([...reader.cpus], [...Array(reader.cpus.length).keys()]);
  await s.child.call(100);
  const seqs: number[] = [];
  for await (const ev of reader.records({ signal: AbortSignal.timeout(10_000) })) {
    assert.equal(ev.type, 'sample');
    if (ev.type !== 'sample') continue;
    assert.ok(reader.cpus.includes(ev.cpu));
    assert.equal(ev.length, rawSize(32));
    seqs.push(checkEvent(ev.data, 32, s.child.pid));
    if (seqs.length === 100) break;
  }
  // Samples of different CPUs may interleave in any order; each CPU's are in order.
  assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.equal(reader.read(), undefined);
  const stats = reader.stats();
  assert.equal(stats.samples, 100);
  assert.equal(stats.lost, 0);
  assert.equal(readCfg(s.cfg).failed, 0);
});

kernelTest('perf buffer overflow: PERF_RECORD_LOST counts equal the failed outputs, per CPU', async () => {
  await using s = setup(48, 0); // the child runs on CPU 0 only
  using reader = PerfBufReader.open(s.events, { pagesPerCpu: 1 });
  await s.child.call(2000); // nothing reads meanwhile: one page holds ~60 samples
  const events: PerfEvent[] = [];
  reader.drain((ev) => events.push(ev.type === 'sample' ? { ...ev, data: ev.copy() } as PerfEvent : ev));
  const fit = events.length;
  const { failed } = readCfg(s.cfg);
  assert.ok(failed > 0 && fit > 0 && fit + failed === 2000, `fit ${fit} + failed ${failed}`);
  // The kernel reports a loss with its next successful output on that CPU.
  await s.child.call(1);
  reader.drain((ev) => events.push(ev.type === 'sample' ? { ...ev, data: ev.copy() } as PerfEvent : ev));
  const lost = events.filter((e) => e.type === 'lost');
  const samples = events.filter((e) => e.type === 'sample');
  assert.equal(lost.length, 1);
  assert.deepEqual(lost[0], { type: 'lost', cpu: 0, lost: failed });
  assert.equal(samples.length, fit + 1);
  assert.ok(samples.every((e) => e.cpu === 0));
  assert.deepEqual(samples.map((e) => checkEvent(e.data, 48, s.child.pid)), [...Array.from({ length: fit }, (_, i) => i), 2000]);
  const stats = reader.stats();
  assert.equal(stats.lost, failed);
  assert.equal(stats.lostByCpu.get(0), failed);
  assert.equal(stats.samples + stats.lost, 2001);
});

kernelTest('perf buffer: samples that wrap around the end of the ring arrive intact', async () => {
  const size = 44; // 8 header + 4 size + 44 = 56-byte records: 4096 is no multiple of 56
  await using s = setup(size, 0);
  using reader = PerfBufReader.open(s.events, { pagesPerCpu: 1 });
  const seqs: number[] = [];
  for (let round = 0; round < 12; round++) {
    await s.child.call(50); // 2800 bytes: fits
    reader.drain((ev) => {
      assert.equal(ev.type, 'sample');
      if (ev.type === 'sample') seqs.push(checkEvent(ev.data.subarray(0, size), size, s.child.pid));
    });
  }
  assert.deepEqual(seqs, Array.from({ length: 600 }, (_, i) => i));
  // 600 records of 56 bytes went through a 4096-byte ring 8 times; with 56 not dividing 4096
  // the records straddling the end were rebuilt from the ring's two ends.
  const wrapped = Array.from({ length: 600 }, (_, i) => ((i * 56) % 4096) + 56 > 4096).filter(Boolean).length;
  assert.ok(wrapped >= 7);
  assert.equal(reader.stats().wrapped, wrapped, 'the reader copied exactly the records that wrapped');
  assert.equal(reader.stats().lost, 0);
});

kernelTest('perf buffer: consume() with a watermark, then close while samples arrive', async () => {
  await using s = setup(24);
  const fds = procFds();
  const maps = mappings();
  const reader = PerfBufReader.open(s.events, { pagesPerCpu: 16, wakeupBytes: 4096 });
  let samples = 0;
  let lost = 0;
  const done = reader.consume((ev) => {
    if (ev.type === 'sample') samples++;
    else lost += ev.lost;
  });
  await s.child.call(20_000);
  await sleep(20);
  reader.drain((ev) => (ev.type === 'sample' ? samples++ : (lost += ev.lost)));
  assert.equal(samples + readCfg(s.cfg).failed, 20_000);
  const busy = s.child.call(100_000);
  setTimeout(() => reader.close(), 10);
  await done;
  await busy;
  assert.ok(reader.closed);
  assert.equal(procFds(), fds, 'every perf event fd closed');
  assert.equal(mappings(), maps, 'every ring unmapped');
});

kernelTest('perf buffer: AbortSignal ends iteration; stale samples read as empty after close', async () => {
  await using s = setup(16);
  const reader = PerfBufReader.open(s.events);
  let n = 0;
  for await (const _ of reader.records({ signal: AbortSignal.timeout(100) })) n++;
  assert.equal(n, 0);
  await s.child.call(3);
  const ev = reader.read();
  assert.ok(ev?.type === 'sample');
  const data = ev.data;
  assert.equal(data.byteLength, rawSize(16));
  reader.close();
  assert.equal(ev.data.byteLength, 0);
  assert.equal(data.byteLength, 0);
  assert.equal(reader.read(), undefined);
});

kernelTest('perf buffer: 200 open/close cycles leave fds, mappings and the map as they were', () => {
  using events = BpfMap.create({ type: 'PERF_EVENT_ARRAY', keySize: 4, valueSize: 4, maxEntries: possibleCpus().length, name: 'ev_cycle' });
  const fds = procFds();
  const tracked = openFds();
  const maps = mappings();
  for (let i = 0; i < 200; i++) {
    using reader = PerfBufReader.open(events, { pagesPerCpu: 1 });
    assert.ok(reader.cpus.length > 0);
  }
  assert.equal(procFds(), fds);
  assert.equal(openFds(), tracked);
  assert.equal(mappings(), maps);
  // Lookups of perf event arrays are not allowed from user space; a delete says the slot is empty.
  const { ret } = bpf('MAP_DELETE_ELEM', { map_fd: events.fd.value, key: new Uint8Array(4) }, { allow: 'all' });
  assert.equal(ret, -Errno.ENOENT, 'the map no longer holds the events');
});

kernelTest('perf buffer: bad options are refused before anything is opened', () => {
  const fds = procFds();
  assert.throws(() => PerfBufReader.open({ fd: 0, maxEntries: 64, type: 'RINGBUF' }), /needs PERF_EVENT_ARRAY/);
  assert.throws(() => PerfBufReader.open({ fd: 0, maxEntries: 64, type: 'PERF_EVENT_ARRAY' }, { pagesPerCpu: 3 }), /power of two/);
  assert.throws(() => PerfBufReader.open({ fd: 0, maxEntries: 1, type: 'PERF_EVENT_ARRAY' }, { cpus: [0, 1] }), /CPU 1 does not fit/);
  assert.equal(procFds(), fds);
});

kernelTest('perf buffer and ring buffer readers left open do not keep the process alive', () => {
  const events = new URL('../../src/events/index.js', import.meta.url).href;
  const kernel = new URL('../../src/kernel/index.js', import.meta.url).href;
  const script = `
    import { PerfBufReader, RingBufReader, possibleCpus } from '${events}';
    import { BpfMap } from '${kernel}';
    const p = BpfMap.create({ type: 'PERF_EVENT_ARRAY', keySize: 4, valueSize: 4, maxEntries: possibleCpus().length });
    const r = BpfMap.create({ type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: 4096 });
    globalThis.keep = [PerfBufReader.open(p), RingBufReader.open(r)];
    console.log('opened');`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), 'opened');
});
