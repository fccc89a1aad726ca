/**
 * Orders the records of one batch. Each record names the lanes it must wait for and the lanes it
 * occupies; a record starts only after every earlier record in those lanes has finished, and
 * records with no lane in common run concurrently. Once a record is handed back for retry, its
 * lanes are blocked for the rest of the batch: a later record in them would otherwise overtake it.
 */
export interface Lanes {
  waitFor: string[];
  occupy: string[];
}

export class Sequencer {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly blocked = new Set<string>();

  /** Lanes currently known, for callers that wait on "every lane with this prefix". */
  knownLanes(prefix: string): string[] {
    return [...this.tails.keys()].filter((lane) => lane.startsWith(prefix));
  }

  run<T>(lanes: Lanes, task: (blocked: boolean) => Promise<T>, handedBack: (result: T) => boolean): Promise<T> {
    const previous = Promise.all(lanes.waitFor.map((lane) => this.tails.get(lane)));
    const run = previous.then(async () => {
      const result = await task(lanes.waitFor.some((lane) => this.blocked.has(lane)));
      if (handedBack(result)) for (const lane of lanes.occupy) this.blocked.add(lane);
      return result;
    });
    // A lane's tail must never reject, or every later record in it would be skipped silently.
    const settled = run.catch(() => undefined);
    for (const lane of lanes.occupy) this.tails.set(lane, settled);
    return run;
  }
}
