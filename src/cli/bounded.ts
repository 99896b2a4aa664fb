/** The part of a writable stream the bounded writer uses (`process.stdout`, a socket, a fake in tests). */
export interface Sink {
  write(chunk: string): boolean;
  /** Bytes written but not yet taken by the reader. */
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
}

/** What a {@link BoundedWriter} dropped while its reader was behind. */
export interface Dropped {
  /** How many lines were dropped. */
  count: number;
  /** How many of each kind. */
  kinds: Record<string, number>;
}

/**
 * Writes lines to a stream without ever buffering more than `limit` bytes in it: while the
 * reader is behind (more than `limit` bytes written and not yet taken), new lines are dropped
 * and counted by kind; once the stream drains, `summary(dropped)` is written first, so the
 * reader learns what it missed. Memory stays bounded however slow the reader is.
 */
export class BoundedWriter {
  private dropped: Dropped = { count: 0, kinds: {} };
  private waiting = false;
  /** Lines dropped since this writer was made. */
  droppedTotal = 0;

  constructor(
    private readonly sink: Sink,
    private readonly summary: (dropped: Dropped) => string,
    /** Bytes the stream may hold. @default 1 MiB */
    readonly limit = 1 << 20,
  ) {}

  /** Writes `line` (a complete line, newline included), or drops it when the reader is behind. */
  write(line: string, kind = 'line'): void {
    if (this.waiting || this.sink.writableLength >= this.limit) {
      this.dropped.count++;
      this.droppedTotal++;
      this.dropped.kinds[kind] = (this.dropped.kinds[kind] ?? 0) + 1;
      if (!this.waiting) {
        this.waiting = true;
        this.sink.once('drain', () => this.drained());
      }
      return;
    }
    this.sink.write(line);
  }

  private drained(): void {
    this.waiting = false;
    const dropped = this.dropped;
    this.dropped = { count: 0, kinds: {} };
    if (dropped.count > 0) this.sink.write(this.summary(dropped));
  }
}
