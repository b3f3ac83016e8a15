/** TimeRange tracks the first and last window timestamp written to an output chunk. */
export class TimeRange {
  minTime = Infinity;
  maxTime = -Infinity;

  add(t: number): void {
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
  }
}
