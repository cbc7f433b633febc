const noop = (): void => {};

/** Runs tasks one at a time per key, in the order they were queued; different keys run concurrently. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(noop, noop);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every queued task (including ones queued meanwhile) has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}

/**
 * One holder at a time: the storage step of a batch spans SQLite and DuckDB and must not interleave. Two lanes:
 * when the lock frees, a waiting priority task (safety events) goes before every waiting bulk task; each lane is FIFO.
 */
export class Mutex {
  private busy = false;
  private readonly lanes: [Array<() => void>, Array<() => void>] = [[], []];

  lock<T>(task: () => Promise<T> | T, priority = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        this.busy = true;
        let p: Promise<T>;
        try {
          p = Promise.resolve(task());
        } catch (err) {
          p = Promise.reject(err as Error);
        }
        void p.then(resolve, reject).finally(() => this.next());
      };
      if (!this.busy) run();
      else this.lanes[priority ? 0 : 1].push(run);
    });
  }

  /** Tasks waiting (both lanes). */
  get waiting(): number {
    return this.lanes[0].length + this.lanes[1].length;
  }

  private next(): void {
    this.busy = false;
    const run = this.lanes[0].shift() ?? this.lanes[1].shift();
    run?.();
  }
}
