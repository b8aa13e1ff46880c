/**
 * MapView: what every typed map class shares — the BpfMap underneath and the operations on the
 * map as a kernel object (info, pin, freeze, close). Typed classes add their own element API.
 */
import { TsbpfError } from '../errors.js';
import type { Fd } from '../sys/index.js';
import { rethrowWithin, type Codec } from './codec.js';
import { BpfMap, type MapCreateOptions, type MapTypeName } from './map.js';
import type { MapInfo } from './map-info.js';

/** A map of the wrong type handed to a typed class (a HASH to ArrayMap, ...). */
export class MapTypeError extends TsbpfError {
  override name = 'MapTypeError';
  constructor(
    readonly mapName: string,
    readonly actual: string,
    readonly expected: readonly string[],
  ) {
    super(`map '${mapName}' is a ${actual} map, expected ${expected.join(' or ')}`);
  }
}

/** The common part of the typed map classes. */
export abstract class MapView implements Disposable {
  constructor(
    /** The map underneath, for byte-level and batch operations. */
    readonly map: BpfMap,
    /** Map types this view accepts; empty accepts any. */
    types: readonly MapTypeName[] = [],
  ) {
    if (types.length > 0 && !types.includes(map.type)) throw new MapTypeError(map.name, map.type, types);
  }

  get name(): string {
    return this.map.name;
  }

  get type(): MapTypeName {
    return this.map.type;
  }

  get fd(): Fd {
    return this.map.fd;
  }

  get maxEntries(): number {
    return this.map.maxEntries;
  }

  /** Encodes `key` into the map's key buffer; a CodecError's path then starts with 'key'. */
  protected encodeKey<K>(codec: Codec<K>, key: K): void {
    try {
      codec.encodeInto(key, this.map.keyBuffer);
    } catch (e) {
      rethrowWithin(e, 'key');
    }
  }

  /** Encodes `value` into the map's value buffer; a CodecError's path then starts with 'value'. */
  protected encodeValue<V>(codec: Codec<V>, value: V): void {
    try {
      codec.encodeInto(value, this.map.valueBuffer);
    } catch (e) {
      rethrowWithin(e, 'value');
    }
  }

  /** What the kernel says about the map (id, sizes, flags, BTF ids). */
  info(): MapInfo {
    return this.map.info();
  }

  /** Pins the map on bpffs; see {@link BpfMap.pin}. */
  pin(path: string): void {
    this.map.pin(path);
  }

  /** Removes a pin; see {@link BpfMap.unpin}. */
  unpin(path?: string): boolean {
    return this.map.unpin(path);
  }

  /** Makes the map read-only for user space (BPF_MAP_FREEZE). */
  freeze(): void {
    this.map.freeze();
  }

  /** Closes the map's fd. */
  close(): void {
    this.map.close();
  }

  [Symbol.dispose](): void {
    this.map.close();
  }
}

/** Creates a map and wraps it in a typed view, closing the map if the view refuses it. */
export function createView<T>(options: MapCreateOptions, wrap: (map: BpfMap) => T): T {
  const map = BpfMap.create(options);
  try {
    return wrap(map);
  } catch (e) {
    map.close();
    throw e;
  }
}
