/**
 * Kafka's `listeners` and `advertised.listeners` (`PLAINTEXT://host:port`), and what a broker binds
 * and advertises from them. One PLAINTEXT listener per broker: ringlog has no TLS or SASL. As in
 * Kafka, an empty host binds every interface and is advertised as the machine's host name, the
 * meta-address 0.0.0.0 may be bound but not advertised, and advertised.listeners defaults to
 * listeners. Port 0 binds an ephemeral port, which is then what is advertised.
 */
import { hostname } from 'node:os';
import { ConfigError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface Listener extends HostPort {
  name: string;
}

/** What a broker worker binds and what it tells clients (port 0: whatever was bound). */
export interface ListenerPlan {
  bind: HostPort;
  advertised: HostPort;
}

export const DEFAULT_BIND_HOST = '127.0.0.1';
const LISTENER = /^([A-Za-z0-9_]+):\/\/(\[[0-9A-Fa-f:.]+\]|[^:/[\]]*):(\d{1,5})$/;
const META_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/** A comma-separated listener list; '' is none. */
export function parseListeners(value: string, key: string): Listener[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const listeners = items.map((item) => {
    const match = LISTENER.exec(item);
    if (match === null) throw new ConfigError(key, `'${item}' is not NAME://host:port`);
    const port = Number(match[3]);
    if (port > 65_535) throw new ConfigError(key, `port ${port} in '${item}' is out of range`);
    const name = match[1]!.toUpperCase();
    if (name !== 'PLAINTEXT') throw new ConfigError(key, `listener '${name}' is not supported: ringlog speaks PLAINTEXT only`);
    return { name, host: match[2]!.replace(/^\[|\]$/g, ''), port };
  });
  if (listeners.length > 1) throw new ConfigError(key, `one listener per broker is supported, got ${listeners.length}`);
  return listeners;
}

/** "host:port" for a client, with brackets around an IPv6 address. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "host:port,..." to addresses (a bootstrap.servers list). */
export function parseHostPorts(servers: string | readonly string[], key = 'bootstrap.servers'): HostPort[] {
  const items = (typeof servers === 'string' ? servers.split(',') : servers).map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(key, 'must name at least one host:port');
  return items.map((item) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65_535) throw new ConfigError(key, `'${item}' is not host:port`);
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

/**
 * The listener of broker number `index` from `listeners`/`advertised.listeners`, or from `port`
 * (port + index, on 127.0.0.1 unless `listeners` names a host). Null: no TCP listener.
 */
export function listenerPlan(listeners: string, advertisedListeners: string, port?: number, index = 0): ListenerPlan | null {
  const [configured] = parseListeners(listeners, 'listeners');
  if (configured === undefined && port === undefined) return null;
  const bindPort = port === undefined ? configured!.port : port === 0 ? 0 : port + index;
  if (bindPort > 65_535) throw new ConfigError('port', `broker ${index} would listen on port ${bindPort}`);
  const bind = { host: configured?.host ?? DEFAULT_BIND_HOST, port: bindPort };
  const [declared] = parseListeners(advertisedListeners, 'advertised.listeners');
  const advertised = declared === undefined ? { ...bind } : { host: declared.host, port: declared.port };
  if (advertised.host === '') advertised.host = hostname();
  if (META_ADDRESSES.has(advertised.host)) {
    throw new ConfigError('advertised.listeners', `cannot advertise the meta-address ${advertised.host}: set a routable host`);
  }
  return { bind, advertised };
}
