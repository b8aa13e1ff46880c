// fentry, fexit and LSM programs, with arguments typed from vmlinux BTF. This machine refuses
// to load them (EPERM); they load and run on the second kernel (QEMU).
import { fentry, fexit, lsm, RingBuf, license, type i32, type u32, type Ptr, type Filename, type File, u32 as toU32, u64 } from 'tsbpf/lang';

export interface Unlink {
  dfd: i32;
  ret: i32;
  mode: u32;
}

export const events = new RingBuf<Unlink>({ size: 4096 });

export const unlinkEnter = fentry('do_unlinkat', (dfd: i32, name: Ptr<Filename>) => {
  const e = events.reserve();
  if (!e) return 0;
  e.dfd = dfd;
  e.ret = name.refcnt.counter;
  e.mode = 0;
  events.submit(e);
  return 0;
});

export const unlinkExit = fexit('do_unlinkat', (dfd: i32, name: Ptr<Filename>, ret: i32) => {
  const e = events.reserve();
  if (!e) return 0;
  e.dfd = dfd;
  e.ret = ret;
  e.mode = toU32(u64(name.uptr) !== 0n);
  events.submit(e);
  return 0;
});

export const fileOpen = lsm('file_open', (file: Ptr<File>) => {
  const e = events.reserve();
  if (!e) return 0;
  e.dfd = 0;
  e.ret = 0;
  e.mode = file.f_mode;
  events.submit(e);
  return 0;
});

license('GPL');
