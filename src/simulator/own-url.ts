import { withGatewayKey } from '../http/gateway-key.ts';

/** A name or address of this machine's loopback interface (HOST, or a URL's hostname). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const portOf = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');

/** Whether `url` reaches the server at `selfUrl`: same origin, or any loopback name with the same port. */
export function isOwnUrl(url: string, selfUrl: string | undefined): boolean {
  if (!selfUrl) return false;
  const u = new URL(url);
  const self = new URL(selfUrl);
  if (u.protocol !== self.protocol || portOf(u) !== portOf(self)) return false;
  return u.hostname === self.hostname || (isLoopbackHost(u.hostname) && isLoopbackHost(self.hostname));
}

/**
 * What the simulated gateway posts to for a callback URL: the server's own routes get the gateway
 * key (as the real gateway's configured URL carries it); another application never sees it.
 */
export function ownCallbackUrl(selfUrl: () => string | undefined, key: string | undefined): (url: string) => string {
  return (url) => (isOwnUrl(url, selfUrl()) ? withGatewayKey(url, key) : url);
}

/**
 * Which URLs the server's simulated gateway may post to. On loopback only people on this machine
 * reach the simulator, so anywhere (testers point it at their own applications); otherwise only
 * this server's own routes and the SIMULATOR_ALLOWED_URLS prefixes, so that the simulator is not a
 * proxy into the host's network for whoever reaches it.
 */
export function simulatorTargets(opts: {
  host: string;
  selfUrl: () => string | undefined;
  allowed?: readonly string[];
}): (url: string) => boolean {
  if (isLoopbackHost(opts.host)) return () => true;
  const prefixes = (opts.allowed ?? []).map((p) => new URL(p));
  return (url) => {
    if (isOwnUrl(url, opts.selfUrl())) return true;
    const u = new URL(url);
    return prefixes.some((p) => u.origin === p.origin && u.pathname.startsWith(p.pathname));
  };
}
