/**
 * Who is asking: the client address a request came from (the socket's peer, or behind trusted
 * reverse proxies the address they forwarded), and the key it is rate-limited under.
 */
import { isIP } from 'node:net';

/**
 * The client's address. `trustProxy` is how many reverse proxies stand in front of the server
 * (`true` is one, `false` or 0 none). Each proxy appends the address it saw to `X-Forwarded-For`,
 * so the client is the entry that many places from the end; entries before it were written by
 * the client itself and are ignored. Without a usable header the socket's peer is the client.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | null, trustProxy: boolean | number): string | undefined {
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
  if (hops > 0 && forwardedFor !== null) {
    const list = forwardedFor.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const picked = list.length === 0 ? undefined : bareAddress(list[Math.max(0, list.length - hops)] as string);
    if (picked !== undefined) return picked;
  }
  return socketAddress === undefined || socketAddress === '' ? undefined : socketAddress;
}

/** An address without the port or brackets some proxies add (`1.2.3.4:5678`, `[2001:db8::1]:443`); undefined when it is no IP address. */
function bareAddress(s: string): string | undefined {
  if (isIP(s) !== 0) return s;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(s);
  if (v6?.[1] !== undefined && isIP(v6[1]) === 6) return v6[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  if (v4?.[1] !== undefined && isIP(v4[1]) === 4) return v4[1];
  return undefined;
}

/**
 * The rate-limit key of an address: an IPv4 address (also written `::ffff:a.b.c.d`) as it is, an
 * IPv6 address by its /64 prefix, because one host holds a whole /64 and could rotate through it.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
