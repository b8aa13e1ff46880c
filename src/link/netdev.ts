/** Network interfaces by name or index, for XDP and tcx. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectInteger } from './check.js';
import { AttachTargetNotFoundError, InvalidAttachError } from './errors.js';

/**
 * The ifindex of an interface: a number is taken as it is; a name is looked up in
 * /sys/class/net/<name>/ifindex. sysfs shows the network namespace it was mounted in (which
 * `ip netns exec` arranges); inside a namespace entered otherwise, pass the ifindex.
 */
export function ifindexOf(iface: string | number, kind: string): number {
  if (typeof iface === 'number') {
    expectInteger(kind, 'ifindex', iface, 1);
    return iface;
  }
  if (!/^[^/\s]{1,15}$/.test(iface) || iface === '.' || iface === '..') throw new InvalidAttachError(kind, `invalid interface name '${iface}'`);
  const file = join('/sys/class/net', iface, 'ifindex');
  if (!existsSync(file)) throw new AttachTargetNotFoundError(kind, iface, 'no such network interface in /sys/class/net (list them with "ip link")');
  return Number(readFileSync(file, 'utf8').trim());
}
