import diagnosticsChannel from 'node:diagnostics_channel';
import type { ResourceMonitorEvents } from './events.js';

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

const channels = new Map<string, diagnosticsChannel.Channel>();

/**
 * The `node:diagnostics_channel` channel of a monitor event (created once per process, shared by
 * every monitor). Subscribing through it or through `diagnosticsChannel.subscribe(channelName(event), fn)`
 * is the same.
 */
export function eventChannel(event: keyof ResourceMonitorEvents | (string & {})): diagnosticsChannel.Channel {
  let channel = channels.get(event);
  if (channel === undefined) {
    channel = diagnosticsChannel.channel(CHANNEL_PREFIX + event);
    channels.set(event, channel);
  }
  return channel;
}
