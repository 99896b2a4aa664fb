import type { Logger } from '../logger.js';
import type { ResourceMonitor } from '../monitor.js';
import type { ResourceStatus } from '../types.js';
import { type Frame, type RowNote, renderFrame } from './table.js';
import { logArgs, type View } from './view.js';

/** The terminal the table draws on (a `tty.WriteStream`, or a fake one in tests). */
export interface Terminal {
  write(chunk: string): unknown;
  readonly columns?: number;
  readonly rows?: number;
  /** Bytes written and not yet taken by the terminal (a `tty.WriteStream` has it). */
  readonly writableLength?: number;
  once?(event: 'drain', listener: () => void): unknown;
}

/** Bytes a slow terminal may hold before frames are skipped (the next frame is always current). */
const BEHIND = 64 * 1024;

const RECENT = 50;
const time = (at: number) => new Date(at).toISOString().slice(11, 19);

/**
 * The live status table of `resmon run` on a terminal: redrawn in place (cursor up, clear
 * down) on every event, at most every 50 ms, and once a second for the ages; the recent
 * events, warnings and process output under it.
 */
export class TableView implements View {
  readonly logger: Logger;
  private monitor: ResourceMonitor | null = null;
  private readonly notes = new Map<string, RowNote>();
  private readonly recent: string[] = [];
  private status = 'Ctrl-C: take every resource offline and exit; twice: kill them all at once';
  private drawn = 0;
  private pending: ReturnType<typeof setTimeout> | null = null;
  private readonly ticker: ReturnType<typeof setInterval>;
  private stopped = false;
  /** The last status of each resource (a closed monitor has none left to show). */
  private readonly statuses = new Map<string, ResourceStatus>();

  constructor(
    private readonly term: Terminal,
    private readonly title: string,
    verbose: boolean,
    private readonly color = !process.env.NO_COLOR,
  ) {
    const at =
      (level: keyof Logger) =>
      (...args: unknown[]) => {
        const { fields, msg } = logArgs(args);
        // A failure is shown once, by its state change (not again as the monitor's warning).
        if (level === 'warn' && typeof fields.resource === 'string' && msg.startsWith('failed: ')) return;
        const who = typeof fields.resource === 'string' ? `${fields.resource}` : 'resmon';
        if (typeof fields.stream === 'string') this.push(`${who}|${fields.stream === 'stderr' ? '!' : ' '} ${msg}`);
        else this.push(`${time(Date.now())} ${level === 'info' ? '' : `[${level}] `}${who}: ${msg}`);
      };
    this.logger = { debug: verbose ? at('debug') : () => {}, info: at('info'), warn: at('warn'), error: at('error') };
    this.ticker = setInterval(() => this.draw(), 1_000);
    this.ticker.unref();
    this.term.write('\x1b[?25l');
  }

  attach(monitor: ResourceMonitor): void {
    this.monitor = monitor;
    monitor.on('stateChange', (e) => {
      this.statuses.set(e.resource, monitor.inspect(e.resource));
      const note = this.noteOf(e.resource);
      note.reason = e.reason;
      if (e.to !== 'online-pending' && e.to !== 'offline-pending') note.progress = undefined;
      this.push(`${time(e.at)} ${e.resource}: ${e.from} -> ${e.to} (${e.reason})`);
    });
    monitor.on('progress', (e) => {
      this.noteOf(e.resource).progress = e.message;
      this.schedule();
    });
    monitor.on('check', (e) => {
      if (!e.ok && e.kind === 'looksAlive') this.push(`${time(e.at)} ${e.resource}: looksAlive failed: ${e.reason ?? ''}`);
      else this.schedule();
    });
    monitor.on('restartScheduled', (e) =>
      this.push(`${time(e.at)} ${e.resource}: ${e.retry ? 'retry' : `restart ${e.attempt}`} in ${e.delayMs} ms`),
    );
    monitor.on('escalated', (e) =>
      this.push(`${time(e.at)} ${e.resource}: ESCALATED: ${e.restarts} restarts within ${e.periodMs} ms; the threshold is spent`),
    );
    monitor.on('callTimeout', (e) => this.push(`${time(e.at)} ${e.resource}: ${e.entryPoint} passed its deadline (${e.timeoutMs} ms)`));
    monitor.on('hostExit', (e) => this.push(`${time(e.at)} host ${e.host} exited (${e.resources.join(', ')})`));
    monitor.on('groupStateChange', (e) => this.push(`${time(e.at)} group ${e.group}: ${e.from} -> ${e.to}`));
    this.draw();
  }

  note(event: string, message: string): void {
    if (event !== 'started') this.status = message;
    this.push(`${time(Date.now())} ${message}`);
  }

  stop(): void {
    if (this.stopped) return;
    this.draw();
    this.stopped = true;
    clearInterval(this.ticker);
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    this.term.write('\x1b[?25h');
  }

  /** The lines of the frame now (what the next redraw writes). */
  frame(): string[] {
    const frame: Frame = {
      title: this.title,
      statuses: this.latest(),
      notes: this.notes,
      recent: this.recent,
      now: Date.now(),
      status: this.status,
      groups: this.groupStates(),
    };
    return renderFrame(frame, { columns: this.term.columns || 120, rows: this.term.rows || 40, color: this.color });
  }

  /** Each group's state, from the monitor while it is open. */
  private groupStates(): Map<string, string> {
    const out = new Map<string, string>();
    for (const status of this.statuses.values()) {
      if (status.group === null || out.has(status.group)) continue;
      try {
        out.set(status.group, this.monitor?.groupStatus(status.group).state ?? '');
      } catch {
        // closed, or the group has no members left
      }
    }
    return out;
  }

  private latest(): ResourceStatus[] {
    for (const status of this.monitor?.snapshot() ?? []) this.statuses.set(status.name, status);
    return [...this.statuses.values()];
  }

  /** The row note of `resource` (its last progress message and the like), made on first use. */
  private noteOf(resource: string): RowNote {
    let note = this.notes.get(resource);
    if (!note) this.notes.set(resource, (note = {}));
    return note;
  }

  private push(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
    this.schedule();
  }

  private schedule(): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.draw();
    }, 50);
  }

  /** Frames not drawn because the terminal was behind (each later frame shows the current state). */
  skippedFrames = 0;
  private waitingForDrain = false;

  private draw(): void {
    if (this.stopped || this.waitingForDrain) return;
    if ((this.term.writableLength ?? 0) >= BEHIND && this.term.once) {
      // Coalesce: draw once the terminal has caught up, never queue frame after frame.
      this.skippedFrames++;
      this.waitingForDrain = true;
      this.term.once('drain', () => {
        this.waitingForDrain = false;
        this.draw();
      });
      return;
    }
    let lines: string[];
    try {
      lines = this.frame();
    } catch {
      return; // the monitor closed under us: keep the last frame
    }
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : '';
    this.term.write(`${up}\x1b[J${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
