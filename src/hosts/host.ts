import type { EntryPoint, ResourceContext } from '../types.js';
import { startProcessHost } from './process-host.js';
import { decodeError, type HostMessage, type MonitorMessage, parseHostMessage, type TypeInfo } from './protocol.js';
import type { ExitInfo, Transport, TransportOptions } from './transport.js';
import { startWorkerHost } from './worker-host.js';

/** A call sent to a host, until its result (or the host's death) settles it. */
export interface PendingCall {
  readonly id: number;
  readonly resource: string;
  /** The entry point, or `validate` (a properties check, not a resource's call). */
  readonly entryPoint: EntryPoint | 'validate';
  /** The context of a resource's call; null for validate and typeControl. */
  readonly ctx: ResourceContext<unknown, unknown> | null;
  settle(outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): void;
}

/** Why a host ended, when the monitor ended it (or the host said why). */
export type HostEnd =
  | { kind: 'stop' }
  | { kind: 'deadlock'; resource: string; entryPoint: EntryPoint; timeoutMs: number }
  | { kind: 'protocol'; detail: string }
  | { kind: 'fatal'; error: Error };

/** What a host tells the host manager. */
export interface HostOwner {
  onFailure(host: Host, message: Extract<HostMessage, { t: 'failure' }>): void;
  onLog(host: Host, message: Extract<HostMessage, { t: 'log' }>): void;
  onExit(host: Host, info: ExitInfo): void;
}

/**
 * One incarnation of an isolation host: a worker thread or a child process, started at the
 * first message. It keeps the calls in flight in it and the resources placed in it; when it
 * dies it is not restarted (the manager makes a new one).
 */
export class Host {
  /** Calls sent and not yet answered. */
  readonly pending = new Map<number, PendingCall>();
  /** Resources added to this host (by name). */
  readonly members = new Set<string>();
  /** Types whose module this host was asked to load. */
  readonly types = new Set<number>();
  /** Why the monitor is ending it (first reason wins). */
  end: HostEnd | null = null;
  /** The exit, once it happened. */
  exit: ExitInfo | null = null;
  private transport: Transport | null = null;
  private ready = false;
  /** Each type module this host loads, settled once loaded (or failed, or the host gone). */
  private readonly typeLoads = new Map<number, Promise<void>>();
  private queue: MonitorMessage[] = [];
  private readonly loads = new Map<number, { resolve(info: TypeInfo): void; reject(error: Error): void }>();
  private resolveExited!: (info: ExitInfo) => void;
  /** Resolves when the thread or process has exited. */
  readonly exited = new Promise<ExitInfo>((resolve) => {
    this.resolveExited = resolve;
  });

  constructor(
    readonly name: string,
    readonly kind: 'worker' | 'process',
    private readonly options: TransportOptions,
    private readonly owner: HostOwner,
  ) {}

  /** Whether the thread or process was started. */
  get started(): boolean {
    return this.transport !== null;
  }

  /** The child's pid or the worker's threadId, once started. */
  get id(): number | null {
    return this.transport?.id ?? null;
  }

  /** Whether it can still take calls (not dead, not being ended). */
  get usable(): boolean {
    return this.exit === null && this.end === null;
  }

  /** Sends a message, starting the host first if needed; queued until the host is ready. */
  send(message: MonitorMessage): void {
    if (this.exit) return;
    if (!this.transport) this.start();
    if (this.ready) this.transport?.send(message);
    else this.queue.push(message);
  }

  /** Starts the thread or process now, so that the first call does not wait for it. */
  warm(): void {
    if (!this.transport && !this.exit) this.start();
  }

  /**
   * Starts the host if needed and loads the type module in it, once. Settles (never rejects) when
   * the module is loaded, failed to load, or the host is gone. The monitor waits for this before
   * a resource's first call, so a host's start-up does not count in that call's deadline.
   */
  ensureType(typeId: number, module: string, exportName: string): Promise<void> {
    let load = this.typeLoads.get(typeId);
    if (!load) {
      load = this.loadType(typeId, module, exportName).then(
        () => {},
        () => {},
      );
      this.typeLoads.set(typeId, load);
    }
    return load;
  }

  /** Loads a type module and resolves with what the host reports about it (registration). */
  loadType(typeId: number, module: string, exportName: string): Promise<TypeInfo> {
    return new Promise<TypeInfo>((resolve, reject) => {
      this.loads.set(typeId, { resolve, reject });
      this.types.add(typeId);
      this.send({ t: 'load', typeId, module, exportName });
    });
  }

  /** Ends the host: `hard` kills it at once; otherwise it is stopped politely. Resolves on exit. */
  kill(end: HostEnd, hard = true): Promise<ExitInfo> {
    this.end ??= end;
    if (this.exit) return this.exited;
    if (!this.transport) {
      this.onExit({ code: null, signal: null, error: null });
    } else {
      this.transport.kill(hard);
    }
    return this.exited;
  }

  private start(): void {
    const events = { message: (raw: unknown) => this.onMessage(raw), exit: (info: ExitInfo) => this.onExit(info) };
    try {
      this.transport = this.kind === 'worker' ? startWorkerHost(this.options, events) : startProcessHost(this.options, events);
    } catch (error) {
      this.transport = { id: -1, send() {}, kill() {} };
      const cause = error instanceof Error ? error : new Error(String(error));
      queueMicrotask(() => this.onExit({ code: null, signal: null, error: cause }));
    }
  }

  private onMessage(raw: unknown): void {
    if (this.exit || this.end) return;
    const m = parseHostMessage(raw);
    if (typeof m === 'string') {
      this.violation(m);
      return;
    }
    switch (m.t) {
      case 'ready': {
        if (this.ready) return this.violation('"ready" twice');
        this.ready = true;
        const queue = this.queue;
        this.queue = [];
        for (const message of queue) this.transport?.send(message);
        return;
      }
      case 'loaded':
      case 'loadFailed': {
        if (!this.types.has(m.typeId)) return this.violation(`"${m.t}" for a type it was not asked to load`);
        const load = this.loads.get(m.typeId);
        this.loads.delete(m.typeId);
        if (m.t === 'loaded') load?.resolve(m.info);
        else load?.reject(decodeError(m.error));
        return;
      }
      case 'result': {
        const call = this.pending.get(m.id);
        if (!call) return this.violation(`a result for call ${m.id}, which is not in flight`);
        this.pending.delete(m.id);
        call.settle(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error });
        return;
      }
      case 'progress':
        this.pending.get(m.id)?.ctx?.reportProgress(m.message, m.checkpoint);
        return;
      case 'failure':
        this.owner.onFailure(this, m);
        return;
      case 'log':
        this.owner.onLog(this, m);
        return;
      case 'fatal':
        this.kill({ kind: 'fatal', error: decodeError(m.error) });
        return;
    }
  }

  /** A message that breaks the protocol: the host is failing. */
  private violation(detail: string): void {
    void this.kill({ kind: 'protocol', detail });
  }

  private onExit(info: ExitInfo): void {
    if (this.exit) return;
    this.exit = info;
    this.ready = false;
    this.queue = [];
    const why = new Error(`host ${this.name} exited before it answered`);
    for (const load of this.loads.values()) load.reject(why);
    this.loads.clear();
    this.owner.onExit(this, info);
    this.resolveExited(info);
  }
}
