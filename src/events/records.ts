/**
 * Decoded records: a ring buffer or perf event array read as JavaScript values through a codec
 * (the record type's BTF codec), which is what Collection.events() hands out. Importing this
 * module registers it with the kernel layer's Collection.
 */
import { TsbpfError } from '../errors.js';
import { registerRecordReader, type EventsOptions } from '../kernel/collection.js';
import type { Codec } from '../kernel/codec.js';
import type { BpfMap } from '../kernel/map.js';
import { PerfBufReader } from './perfbuf.js';
import { RingBufReader } from './ringbuf.js';

/** A record shorter than its type: the program wrote something else into the map. */
export class RecordSizeError extends TsbpfError {
  override name = 'RecordSizeError';
  constructor(
    readonly map: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`map '${map}': a record of ${actual} bytes, but its record type has ${expected}; the program and the record type given for the map disagree`);
  }
}

/** Where lost perf samples go when the caller gave no onLost: never dropped silently. */
function warnLost(map: string): (count: number, cpu: number) => void {
  return (count, cpu) => process.emitWarning(`map '${map}': the kernel lost ${count} perf event samples on CPU ${cpu} (its ring was full: read faster or give the map more pages)`, 'PerfBufLostWarning');
}

/** The raw records of either kind of map, as byte views valid until the next step. */
async function* rawRecords(reader: RingBufReader | PerfBufReader, options: EventsOptions, map: string): AsyncGenerator<Uint8Array> {
  const { signal } = options;
  if (reader instanceof RingBufReader) {
    for await (const rec of reader.records({ signal })) yield rec.data;
    return;
  }
  const onLost = options.onLost ?? warnLost(map);
  for await (const ev of reader.records({ signal })) {
    if (ev.type === 'sample') yield ev.data;
    else if (ev.type === 'lost') onLost(ev.lost, ev.cpu);
  }
}

/**
 * The records of `map` decoded with `codec`, as they arrive; disposing of the iterator (or the
 * signal aborting, or a `break`) stops it and unmaps the rings.
 *
 * @example
 * for await (const e of decodedRecords(eventsMap, btfCodec(btf, execEventId), {})) console.log(e);
 */
export function decodedRecords<T>(map: BpfMap, codec: Codec<T>, options: EventsOptions & { ended?: () => void }): AsyncIterableIterator<T> & Disposable {
  const reader = map.type === 'RINGBUF' ? RingBufReader.open(map) : PerfBufReader.open(map);
  async function* decode(): AsyncGenerator<T> {
    try {
      for await (const bytes of rawRecords(reader, options, map.name)) {
        if (bytes.byteLength < codec.size) throw new RecordSizeError(map.name, codec.size, bytes.byteLength);
        yield codec.decode(bytes);
      }
    } finally {
      reader.close();
      options.ended?.();
    }
  }
  const it = decode();
  return Object.assign(it, {
    // Closing the reader ends a pending wait at once; the generator's finally then runs.
    [Symbol.dispose]: () => reader.close(),
  });
}

registerRecordReader((map, codec, options) => decodedRecords(map, codec, options));
