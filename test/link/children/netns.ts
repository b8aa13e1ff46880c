/**
 * A child process run inside a fresh network namespace (unshare -n) by the XDP and tcx tests:
 * brings lo up, attaches a counting program to lo (ifindex 1), sends UDP datagrams over lo and
 * prints {"sent", "received", "count", "info"} as one JSON line. Usage:
 *   node netns.js xdp-pass|xdp-drop|tcx-pass|tcx-drop COUNT
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { R0 } from '../../../src/asm/index.js';
import { tcx, xdp } from '../../../src/link/index.js';
import { counter } from '../support.js';

const [mode, countArg] = process.argv.slice(2);
const sent = Number(countArg ?? 5);
const up = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
if (up.status !== 0) throw new Error(`ip link set lo up: ${up.stderr}`);

// XDP_DROP = 1, XDP_PASS = 2; TCX_PASS = 0, TCX_DROP = 2.
const ret = { 'xdp-pass': 2, 'xdp-drop': 1, 'tcx-pass': 0, 'tcx-drop': 2 }[mode!];
if (ret === undefined) throw new Error(`unknown mode ${mode}`);
const isXdp = mode!.startsWith('xdp');
const c = counter({ type: isXdp ? 'XDP' : 'SCHED_CLS', ret, key: (b) => b.mov(R0, 0), name: mode!.replace('-', '_') });
const link = isXdp ? xdp(c.prog, 1) : tcx(c.prog, 1, 'ingress');

const rx = createSocket('udp4');
rx.bind(0, '127.0.0.1');
await once(rx, 'listening');
let received = 0;
rx.on('message', () => received++);
const tx = createSocket('udp4');
for (let i = 0; i < sent; i++) {
  tx.send(`packet ${i}`, rx.address().port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 10));
}
// Passing programs: wait until everything arrived (up to 2 s); dropping ones: a fixed 300 ms.
const passing = mode!.endsWith('pass');
for (let waited = 0; passing ? received < sent && waited < 2000 : waited < 300; waited += 20) await new Promise((r) => setTimeout(r, 20));
const info = link.info();
process.stdout.write(JSON.stringify({ sent, received, count: c.count(0), info: { type: info.type, ifindex: info.ifindex, attachType: info.attachType } }) + '\n');
link.close();
tx.close();
rx.close();
c.close();
