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

  /**
   * The next waiting task starts after one turn of the event loop, the lock still held. Storing is synchronous (SQLite,
   * the DuckDB appender), so starting it from this promise callback would store the whole taken backlog without the loop
   * ever turning: no socket read, so no later safety event could reach the priority lane (measured: event-loop delay
   * p50 0.5-1 s at the sustainable rate, and safety alarms as late as bulk ones). The turn lets the broker take them;
   * a priority task queued meanwhile is picked first.
   */
  private next(): void {
    if (this.waiting === 0) return void (this.busy = false);
    setImmediate(() => {
      const run = this.lanes[0].shift() ?? this.lanes[1].shift();
      if (run) run();
      else this.busy = false;
    });
  }
}
