import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/** Where and how `resmon run` keeps the output of its processes (`logs:` in the config file). */
export interface LogSettings {
  /** The folder of the log files. @default '.resmon/logs' beside the config file */
  dir: string;
  /** Size at which a file is rotated, as rotating-file-stream reads it: `10M`, `500K`, `300B`. @default '10M' */
  maxSize: string;
  /** Rotated files kept per stream (`NAME.out.log.1` … `.keep`). @default 5 */
  keep: number;
}

/** One line of a process's output, as `logs -f` streams it. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A resource name as a file name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export const fileSafe = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, '_');

/** Bytes a log file's stream may hold while the disk is behind before output is dropped. */
const BEHIND = 4 * 1024 * 1024;

interface Sink {
  file: RotatingFileStream;
  dropped: number;
  partial: string;
}

/**
 * The log files of `resmon run`: each process's stdout and stderr go to
 * `DIR/NAME.out.log` and `DIR/NAME.err.log`, rotated by size by rotating-file-stream in the
 * classic way (`NAME.out.log.1` is the newest rotated file, `.KEEP` the oldest). Lines are also
 * published to followers (`logs -f`), who therefore never see a rotation. While the disk is
 * more than 4 MiB behind, output is dropped and a line `[resmon: N bytes dropped]` written
 * once it catches up.
 */
export class LogFiles {
  private readonly sinks = new Map<string, Sink>();
  private readonly bus = new EventEmitter();
  private closed = false;

  constructor(readonly settings: LogSettings) {
    this.bus.setMaxListeners(0);
  }

  /** The two files of a resource (the current ones). */
  paths(resource: string): { stdout: string; stderr: string } {
    const base = path.join(this.settings.dir, fileSafe(resource));
    return { stdout: `${base}.out.log`, stderr: `${base}.err.log` };
  }

  /** Takes a chunk of a process's output (the `process` type's `onOutput`). */
  write(resource: string, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.closed) return;
    const sink = this.sink(resource, stream);
    if (sink) {
      if (sink.file.writableLength >= BEHIND) {
        if (sink.dropped === 0) sink.file.once('drain', () => this.drained(sink));
        sink.dropped += chunk.length;
      } else {
        sink.file.write(chunk);
      }
    }
    if (this.bus.listenerCount(resource) === 0) {
      if (sink) sink.partial = '';
      return;
    }
    const state = sink ?? { partial: '' };
    const parts = (state.partial + chunk.toString()).split(/\r?\n/);
    state.partial = (parts.pop() as string).slice(0, 65_536);
    for (const line of parts) this.bus.emit(resource, { stream, line } satisfies LogLine);
  }

  /** Calls `listener` with every line the resource writes from now on; returns the unsubscribe. */
  follow(resource: string, listener: (line: LogLine) => void): () => void {
    this.bus.on(resource, listener);
    return () => this.bus.off(resource, listener);
  }

  /**
   * The last `n` lines of a stream: from the current file, and from the newest rotated one
   * when the current file holds fewer.
   */
  tail(resource: string, stream: 'stdout' | 'stderr', n: number): string[] {
    if (n <= 0) return [];
    const current = this.paths(resource)[stream];
    const lines = readLines(current, n);
    if (lines.length < n) lines.unshift(...readLines(`${current}.1`, n - lines.length));
    return lines.slice(-n);
  }

  /** Ends every file (waits for what was written to reach the disk). */
  async close(): Promise<void> {
    this.closed = true;
    const files = [...this.sinks.values()].map((s) => s.file);
    this.sinks.clear();
    this.bus.removeAllListeners();
    await Promise.all(
      files.map(
        (file) =>
          new Promise<void>((resolve) => {
            file.once('error', () => resolve());
            file.end(() => resolve());
          }),
      ),
    );
  }

  private sink(resource: string, stream: 'stdout' | 'stderr'): Sink | null {
    const key = `${resource}\u0000${stream}`;
    let sink = this.sinks.get(key);
    if (sink) return sink;
    const name = path.basename(this.paths(resource)[stream]);
    try {
      mkdirSync(this.settings.dir, { recursive: true, mode: 0o700 });
      // With `rotate`, the generator gets the rotation index only (null: the current file).
      const file = createStream((index: number | Date | null) => (typeof index === 'number' && index > 0 ? `${name}.${index}` : name), {
        path: this.settings.dir,
        size: this.settings.maxSize,
        rotate: this.settings.keep,
        mode: 0o600,
      });
      sink = { file, dropped: 0, partial: '' };
      // A disk error ends the stream: forget it so that the next chunk opens a new one.
      file.on('error', () => {
        if (this.sinks.get(key)?.file === file) this.sinks.delete(key);
      });
      this.sinks.set(key, sink);
      return sink;
    } catch {
      return null;
    }
  }

  private drained(sink: Sink): void {
    const dropped = sink.dropped;
    sink.dropped = 0;
    if (dropped > 0 && !this.closed) sink.file.write(`[resmon: ${dropped} bytes dropped: the disk was behind]\n`);
  }
}

/**
 * The last `n` lines of a file, reading backwards in 64 KiB chunks (never the whole file when
 * its end holds them); `[]` when it cannot be read.
 */
function readLines(file: string, n: number): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    while (position > 0 && newlines <= n) {
      const length = Math.min(65_536, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, position);
      chunks.unshift(chunk);
      for (const byte of chunk) if (byte === 10) newlines++;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    if (position > 0) lines.shift(); // a partial first line
    return lines.slice(-n);
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}
