/**
 * A child process for the lifecycle tests: attaches a raw tracepoint link (and, given a cgroup,
 * a PROG_ATTACH device program), prints {"linkId", "progId"} as one JSON line, then:
 *   wait        waits until a signal ends it (the registry must detach on SIGINT/SIGTERM)
 *   own-handler waits, with its own SIGINT handler that exits with status 7 later
 *   exit        exits normally once stdin closes
 *   pin PATH    pins the link at PATH and exits normally
 * Usage: node hold.js MODE [--cgroup DIR] [PATH]
 */
import { ProgramBuilder, R0 } from '../../../src/asm/index.js';
import { Program } from '../../../src/kernel/index.js';
import { cgroup, rawTracepoint } from '../../../src/link/index.js';

const [mode, ...rest] = process.argv.slice(2);
const cgIndex = rest.indexOf('--cgroup');
const cgDir = cgIndex >= 0 ? rest[cgIndex + 1] : undefined;
const positional = rest.filter((_, i) => cgIndex < 0 || (i !== cgIndex && i !== cgIndex + 1));
const pinPath = mode === 'pin' ? positional[0] : undefined;

const insns = new ProgramBuilder().mov(R0, 0).exit().build().instructions;
const raw = Program.load({ type: 'RAW_TRACEPOINT', license: 'GPL', name: 'hold_raw', instructions: insns });
const link = rawTracepoint(raw, 'sys_enter');
let progId = 0;
if (cgDir) {
  const dev = Program.load({ type: 'CGROUP_DEVICE', expectedAttachType: 'CGROUP_DEVICE', license: 'GPL', name: 'hold_dev', instructions: new ProgramBuilder().mov(R0, 1).exit().build().instructions });
  cgroup(dev, cgDir, { mode: 'attach' });
  progId = 1;
}
if (pinPath) link.pin(pinPath);
process.stdout.write(JSON.stringify({ linkId: link.info().id, progId }) + '\n');

if (mode === 'own-handler') {
  process.on('SIGINT', () => {
    setTimeout(() => process.exit(7), 50);
  });
}
if (mode === 'wait' || mode === 'own-handler') setInterval(() => {}, 1000);
if (mode === 'exit') {
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}
