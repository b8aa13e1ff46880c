// kprobe, kretprobe, uprobe, uretprobe and usdt programs: they load here (attaching kprobes
// needs CONFIG_KPROBES, which this machine lacks).
import { kprobe, kretprobe, uprobe, uretprobe, usdt, HashMap, helpers as bpf, license, type u32, type u64 } from 'tsbpf/lang';

export const calls = new HashMap<u32, u64>({ maxEntries: 1024 });
export const results = new HashMap<u32, u64>({ maxEntries: 1024 });

export const openEnter = kprobe('do_sys_openat2', (ctx) => {
  calls.increment(bpf.pid(), ctx.dx & 0xffn);
});

export const openExit = kretprobe('do_sys_openat2', (ctx) => {
  results.update(bpf.pid(), ctx.ax);
});

export const mainEnter = uprobe('/bin/true', 'main', (ctx) => {
  calls.increment(bpf.pid(), ctx.di);
});

export const mainExit = uretprobe('/bin/true', 'main', (ctx) => {
  results.update(bpf.pid(), ctx.ax);
});

export const probe = usdt('/usr/lib/x86_64-linux-gnu/libc.so.6', 'libc', 'setjmp', () => {
  calls.increment(0);
});

license('GPL');
