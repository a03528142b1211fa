import type { Db } from './connection.ts';

/**
 * Tells the in-memory copies of rows (live USSD sessions, household records) when they may be
 * stale. Our own writes go through the stores, which update their copies; writes by another
 * connection (a CLI command, a second process) move SQLite's `data_version`, read here at most once
 * per turn of the event loop: each read costs a WAL lock round-trip.
 */
export function createChangeWatch(db: Db) {
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  const listeners: Array<() => void> = [];
  let seen = dataVersion.get() as number;
  let checkedThisTurn = false;

  return {
    /** Forgets every copy if another connection committed since the last check. */
    check(): void {
      if (checkedThisTurn) return;
      checkedThisTurn = true;
      setImmediate(() => {
        checkedThisTurn = false;
      });
      const v = dataVersion.get() as number;
      if (v === seen) return;
      seen = v;
      for (const forget of listeners) forget();
    },
    onChangeElsewhere(forget: () => void): void {
      listeners.push(forget);
    },
  };
}

export type ChangeWatch = ReturnType<typeof createChangeWatch>;

/** A bounded map that forgets its least recently used entry first. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  has(key: K): boolean {
    return this.map.has(key);
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}
