import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgramBuilder, R0, R2, R10, reg } from '../../src/asm/index.js';
import { BpfMap, Program, VerifierError, parseVerifierLog } from '../../src/kernel/index.js';
import { openFds, PermissionError } from '../../src/sys/index.js';
import { readFileSync } from 'node:fs';
import { BtfKind, parseBtf } from '../../src/btf/index.js';
import { kernelTest } from '../support/kernel.js';

test('verifier logs: the reason and the instruction', () => {
  const log = '0: R1=ctx() R10=fp0\n0: (bf) r2 = r10\n1: (61) r0 = *(u32 *)(r2 +8)\ninvalid read from stack R2 off=8 size=4\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n';
  assert.deepEqual(parseVerifierLog(log), { reason: 'invalid read from stack R2 off=8 size=4', insn: 1 });
});

kernelTest('a program loads, and a rejected one reports the verifier log and instruction', () => {
  const fds = openFds();
  {
    using prog = Program.load({ type: 'SOCKET_FILTER', license: 'GPL', name: 'ok', instructions: new ProgramBuilder().mov(R0, 0).exit().build().instructions });
    assert.ok(prog.fd.value > 0);
  }
  const bad = new ProgramBuilder().mov(R2, reg(R10)).load(32, R0, R2, 8).exit().build();
  const err = (() => {
    try {
      Program.load({ type: 'SOCKET_FILTER', license: 'GPL', name: 'bad', instructions: bad.instructions });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof VerifierError, String(err));
  assert.equal(err.insn, 1);
  assert.match(err.reason, /invalid read from stack|stack/);
  assert.match(err.log, /processed \d+ insns/);
  assert.equal(openFds(), fds, 'nothing left open');
});

kernelTest('a refused program kind is a PermissionError naming it (fentry on this machine)', (t) => {
  const btf = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'));
  const target = btf.typeByName('do_unlinkat', BtfKind.FUNC)!.id;
  let loaded: Program | undefined;
  try {
    loaded = Program.load({ type: 'TRACING', expectedAttachType: 'TRACE_FENTRY', license: 'GPL', name: 'fentry', attachBtfId: target, instructions: new ProgramBuilder().mov(R0, 0).exit().build().instructions });
  } catch (e) {
    assert.ok(e instanceof PermissionError, String(e));
    assert.match(e.message, /TRACING\/TRACE_FENTRY/);
    return;
  }
  loaded.close();
  t.diagnostic('this kernel loads fentry programs: nothing refused to check');
});

kernelTest('maps: create, update, lookup, iterate, delete', () => {
  using m = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 4, maxEntries: 4, name: 'kt_hash' });
  const k = (n: number) => new Uint8Array(Uint32Array.of(n).buffer);
  m.updateBytes(k(1), k(10));
  m.updateBytes(k(2), k(20));
  assert.deepEqual(m.lookupBytes(k(2)), k(20));
  assert.equal(m.lookupBytes(k(3)), undefined);
  assert.equal([...m.keysBytes()].length, 2);
  assert.equal(m.deleteBytes(k(1)), true);
  assert.equal(m.deleteBytes(k(1)), false);
});
