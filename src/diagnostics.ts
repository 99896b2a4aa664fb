import diagnosticsChannel from 'node:diagnostics_channel';
import { MONITOR_EVENTS, type ResourceMonitorEvents } from './events.js';

/**
 * The prefix of resmon's `node:diagnostics_channel` names: the monitor publishes each event on
 * `resmon:<event>` (`resmon:stateChange`, `resmon:check`, …), with the event's payload as the
 * message, the same object a `monitor.on()` listener receives.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * diagnosticsChannel.subscribe('resmon:stateChange', (event) => console.log(event));
 * ```
 */
export const CHANNEL_PREFIX = 'resmon:';

/** The channel name of a monitor event: `resmon:<event>`. */
export function channelName(event: keyof ResourceMonitorEvents | (string & {})): string {
  return CHANNEL_PREFIX + event;
}

// The monitor asks for an event's channel on every event: the known events' channels sit in a
// plain object made once (a property read); others (events added later) in a Map.
const known: Record<string, diagnosticsChannel.Channel | undefined> = Object.create(null);
for (const event of MONITOR_EVENTS) known[event] = diagnosticsChannel.channel(CHANNEL_PREFIX + event);
const others = new Map<string, diagnosticsChannel.Channel>();

/**
 * The `node:diagnostics_channel` channel of a monitor event (created once per process, shared by
 * every monitor). Subscribing through it or through `diagnosticsChannel.subscribe(channelName(event), fn)`
 * is the same.
 */
export function eventChannel(event: keyof ResourceMonitorEvents | (string & {})): diagnosticsChannel.Channel {
  const channel = known[event];
  if (channel !== undefined) return channel;
  let other = others.get(event);
  if (other === undefined) {
    other = diagnosticsChannel.channel(CHANNEL_PREFIX + event);
    others.set(event, other);
  }
  return other;
}
