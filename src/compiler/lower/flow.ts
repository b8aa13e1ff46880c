/**
 * Flow facts the lowering tracks along each path, as TypeScript narrows types: which maybe-
 * missing references are known present or absent (so unchecked uses are compile errors), which
 * ring buffer reservations are still held (a path that returns while holding one is a compile
 * error, as the verifier would reject it), and which bpf_spin_lock is held (the verifier allows
 * one at a time, no calls while it is held, and no exit before it is released).
 */
export type Presence = 'present' | 'absent';
export type RefState = 'held' | 'released' | 'mixed';

/** The spin lock held on a path: which one, and where it was taken. */
export interface HeldLock {
  /** Identity of the lock: the register holding the map value's address and the lock's offset. */
  readonly key: string;
  /** The register holding the map value's address (a reassignment would change the lock). */
  readonly reg: number | undefined;
  /** The lock as written in the source (`v.lock`), for messages. */
  readonly name: string;
  /** Source offset of the bpf.spinLock() call. */
  readonly at: number;
  /** Held on some of the paths that meet here, not on others (or another lock is). */
  readonly mixed?: boolean;
}

/** Facts on one path. Immutable: every change makes a copy. */
export class Flow {
  constructor(
    readonly presence: ReadonlyMap<number, Presence> = new Map(),
    readonly refs: ReadonlyMap<number, RefState> = new Map(),
    readonly lock: HeldLock | undefined = undefined,
  ) {}

  withPresence(id: number, p: Presence | undefined): Flow {
    const m = new Map(this.presence);
    if (p === undefined) m.delete(id);
    else m.set(id, p);
    return new Flow(m, this.refs, this.lock);
  }

  withRef(id: number, s: RefState): Flow {
    const m = new Map(this.refs);
    m.set(id, s);
    return new Flow(this.presence, m, this.lock);
  }

  /** This path with spin lock `l` held (undefined: released). */
  withLock(l: HeldLock | undefined): Flow {
    return new Flow(this.presence, this.refs, l);
  }

  /**
   * Where reservation `id` stands on this path. A path that never reserved it (its declaration
   * was not reached, as before a loop's first iteration) or found it missing holds nothing.
   */
  refState(id: number): RefState {
    if (this.presence.get(id) === 'absent') return 'released';
    return this.refs.get(id) ?? 'released';
  }

  /** Facts that hold on every one of `flows` (undefined: unreachable, when all are). */
  static mergeAll(flows: Iterable<Flow | undefined>): Flow | undefined {
    let out: Flow | undefined;
    for (const f of flows) out = Flow.merge(out, f);
    return out;
  }

  /** Facts that hold on both paths. */
  static merge(a: Flow | undefined, b: Flow | undefined): Flow | undefined {
    if (!a) return b;
    if (!b) return a;
    const presence = new Map<number, Presence>();
    for (const [k, v] of a.presence) if (b.presence.get(k) === v) presence.set(k, v);
    const refs = new Map<number, RefState>();
    for (const k of new Set([...a.refs.keys(), ...b.refs.keys()])) {
      const x = a.refState(k);
      const y = b.refState(k);
      refs.set(k, x === y ? x : 'mixed');
    }
    return new Flow(presence, refs, Flow.mergeLock(a.lock, b.lock));
  }

  /** The lock held where two paths meet: the same one on both, or mixed. */
  private static mergeLock(a: HeldLock | undefined, b: HeldLock | undefined): HeldLock | undefined {
    if (!a && !b) return undefined;
    if (a && b && a.key === b.key && !a.mixed && !b.mixed) return a;
    return { ...(a ?? b)!, mixed: true };
  }
}
