/**
 * `tsbpf link list`: every bpf_link in the system (BPF_LINK_GET_NEXT_ID), with its type, program
 * and what it is attached to (from struct bpf_link_info): a table, or JSON with --json.
 */
import type { Command } from 'commander';
import { table, toJson } from './format.js';

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
        process.stdout.write(toJson(links) + '\n');
        return;
      }
      const rows = links.map((l) => [String(l.id), l.type === 'UNSPEC' ? `type ${l.typeNumber}` : l.type.toLowerCase(), String(l.progId), describeLinkInfo(l)]);
      process.stdout.write(table(['ID', 'TYPE', 'PROG', 'ATTACHED TO'], rows, { right: [0, 2] }));
    });
}
