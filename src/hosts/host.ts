import { isError, reasonOf, toError } from '../errors.js';
import type { EntryPoint, ResourceContext } from '../types.js';
import { startProcessHost } from './process-host.js';
import { decodeError, type EncodedError, encodeError, type HostMessage, type MonitorMessage, parseHostMessage, type TypeInfo } from './protocol.js';
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

/** What a host needs from the host manager that owns it: where it reports what it cannot handle itself. */
export interface HostEnv {
  /** The plugin called `reportFailure` (possibly after its call returned). */
  onFailure(host: Host, message: Extract<HostMessage, { t: 'failure' }>): void;
  /** The plugin logged a line through `ctx.log`. */
  onLog(host: Host, message: Extract<HostMessage, { t: 'log' }>): void;
  /** The thread or process exited (planned or not); its calls in flight are still pending. */
  onExit(host: Host, info: ExitInfo): void;
}

/**
 * One incarnation of an isolation host: a worker thread or a child process, started at the
 * first message. It keeps the calls in flight in it and the resources placed in it; when it
 * dies it is not restarted (the manager makes a new one).
 */
export class Host {
  /** Calls sent and not yet answered, by id. */
  private readonly inFlight = new Map<number, PendingCall>();
  /** Resources placed in this host (by name). */
  private readonly placed = new Set<string>();
  /** Types whose module this host was asked to load. */
  private readonly types = new Set<number>();
  private ended: HostEnd | null = null;
  private exitInfo: ExitInfo | null = null;
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
    private readonly env: HostEnv,
  ) {}

  /** Why the monitor is ending it (the first reason given), or null. */
  get end(): HostEnd | null {
    return this.ended;
  }

  /** The exit, once it happened. */
  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

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
    return this.exitInfo === null && this.ended === null;
  }

  /** Whether `resource` was placed in this host (and not removed). */
  holds(resource: string): boolean {
    return this.placed.has(resource);
  }

  /** The resources placed in this host, in placement order. */
  members(): string[] {
    return [...this.placed];
  }

  /** Places a resource in this host: its type module is loaded once, then the resource is added. */
  place(resource: string, typeId: number, module: string, exportName: string, properties: unknown): void {
    void this.ensureType(typeId, module, exportName);
    this.placed.add(resource);
    this.send({ t: 'add', resource, typeId, properties });
  }

  /** Removes a placed resource; false when it was not placed here. */
  remove(resource: string): boolean {
    if (!this.placed.delete(resource)) return false;
    this.send({ t: 'remove', resource });
    return true;
  }

  /**
   * Sends `message` (a call, a validate or a typeCall) and keeps `call` pending until its result,
   * or until `takePending()` after the exit.
   */
  call(call: PendingCall, message: MonitorMessage): void {
    this.inFlight.set(call.id, call);
    this.send(message);
  }

  /** Gives a placed resource new properties (setProperties), before its next call. */
  setProperties(resource: string, properties: unknown): void {
    this.send({ t: 'props', resource, properties });
  }

  /** The call in flight with this id, if any. */
  pendingCall(id: number): PendingCall | undefined {
    return this.inFlight.get(id);
  }

  /** Hands over every call still in flight (once the host has exited, to settle them). */
  takePending(): PendingCall[] {
    const calls = [...this.inFlight.values()];
    this.inFlight.clear();
    return calls;
  }

  /** Tells the plugin a call was abandoned (its signal aborted with `reason`). */
  abort(id: number, reason: unknown): void {
    this.send({ t: 'abort', id, reason: encodeError(isError(reason) ? reason : new Error(reasonOf(reason))) as EncodedError });
  }

  /** Sends a message, starting the host first if needed; queued until the host is ready. */
  private send(message: MonitorMessage): void {
    if (this.exitInfo) return;
    if (!this.transport) this.start();
    if (this.ready) this.transport?.send(message);
    else this.queue.push(message);
  }

  /** Starts the thread or process now, so that the first call does not wait for it. */
  warm(): void {
    if (!this.transport && !this.exitInfo) this.start();
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
    this.ended ??= end;
    if (this.exitInfo) return this.exited;
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
      const cause = toError(error, 'starting the host threw');
      queueMicrotask(() => this.onExit({ code: null, signal: null, error: cause }));
    }
  }

  private onMessage(raw: unknown): void {
    if (this.exitInfo || this.ended) return;
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
        const call = this.inFlight.get(m.id);
        if (!call) return this.violation(`a result for call ${m.id}, which is not in flight`);
        this.inFlight.delete(m.id);
        call.settle(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error });
        return;
      }
      case 'progress':
        this.inFlight.get(m.id)?.ctx?.reportProgress(m.message, m.checkpoint);
        return;
      case 'failure':
        this.env.onFailure(this, m);
        return;
      case 'log':
        this.env.onLog(this, m);
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
    if (this.exitInfo) return;
    this.exitInfo = info;
    this.ready = false;
    this.queue = [];
    const why = new Error(`host ${this.name} exited before it answered`);
    for (const load of this.loads.values()) load.reject(why);
    this.loads.clear();
    this.env.onExit(this, info);
    this.resolveExited(info);
  }
}
