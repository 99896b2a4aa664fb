/**
 * The last lines a stream wrote, in a fixed-size ring: what `processType.output()` shows and
 * what a failed start quotes. A line longer than `maxLineLength` is cut; a partial last line
 * is kept until its newline comes (or {@link OutputTail.flush}).
 */
export class OutputTail {
  private ring: string[] = [];
  private next = 0;
  private partial = '';
  /** Complete lines written so far (a mark for {@link OutputTail.since}). */
  written = 0;

  constructor(
    /** How many complete lines to keep (see {@link OutputTail.resize}). */
    public capacity: number,
    private readonly onLine?: (line: string) => void,
    private readonly maxLineLength = 4_096,
  ) {}

  /** Adds a chunk of output; calls `onLine` for every line it completes. */
  write(chunk: string | Buffer): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = (parts.pop() as string).slice(0, this.maxLineLength);
    for (const line of parts) this.push(line);
  }

  /** Ends the stream: a partial last line becomes a line. */
  flush(): void {
    if (this.partial) this.push(this.partial);
    this.partial = '';
  }

  /** The kept lines, oldest first (a pending partial line last). */
  lines(): string[] {
    const kept = this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    if (this.partial) kept.push(this.partial);
    return kept;
  }

  /** Keeps `capacity` lines from now on: the newest of those kept so far stay. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const ordered = this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    this.capacity = capacity;
    this.ring = capacity > 0 ? ordered.slice(Math.max(0, ordered.length - capacity)) : [];
    this.next = capacity > 0 ? this.ring.length % capacity : 0;
  }

  /** The last `n` lines. */
  last(n: number): string[] {
    const all = this.lines();
    return n >= all.length ? all : all.slice(all.length - n);
  }

  /** The last `n` lines (at most) written since `mark` (a value of {@link OutputTail.written}). */
  since(mark: number, n: number): string[] {
    const all = this.lines();
    const fresh = Math.min(all.length, this.written - mark + (this.partial ? 1 : 0));
    return all.slice(all.length - Math.min(n, Math.max(0, fresh)));
  }

  private push(raw: string): void {
    const line = raw.length > this.maxLineLength ? `${raw.slice(0, this.maxLineLength)}…` : raw;
    this.written++;
    if (this.capacity > 0) {
      if (this.ring.length < this.capacity) this.ring.push(line);
      else this.ring[this.next] = line;
      this.next = (this.next + 1) % this.capacity;
    }
    this.onLine?.(line);
  }
}
