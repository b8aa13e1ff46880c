/**
 * `tsbpf link list`: every bpf_link in the system (BPF_LINK_GET_NEXT_ID), with its type, program
 * and what it is attached to (from struct bpf_link_info): a table, or JSON with --json.
 */
import type { Command } from 'commander';

/** bigints as numbers when exact, else as strings (JSON has no bigints). */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** Adds `link list` to the tsbpf command. */
export function register(program: Command): void {
  const link = program.command('link').description('inspect attached programs (bpf_links)');
  link
    .command('list')
    .alias('ls')
    .description('list every bpf_link: id, type, program id and what it is attached to')
    .option('--json', 'print a JSON array of bpf_link_info records')
    .action(async (opts: { json?: boolean }) => {
      const { listLinks, describeLinkInfo } = await import('../link/info.js');
      const links = listLinks();
      if (opts.json) {
        process.stdout.write(JSON.stringify(links, jsonValue, 2) + '\n');
        return;
      }
      const rows = [['ID', 'TYPE', 'PROG', 'ATTACHED TO'], ...links.map((l) => [String(l.id), l.type === 'UNSPEC' ? `type ${l.typeNumber}` : l.type.toLowerCase(), String(l.progId), describeLinkInfo(l)])];
      const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(`${r.slice(0, 3).map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}  ${r[3]}`.trimEnd() + '\n');
    });
}
