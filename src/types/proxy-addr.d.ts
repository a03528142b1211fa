// proxy-addr 2.x (express's own resolver of the client address; no published types in this project).
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';

  type Trust = (addr: string, index: number) => boolean;
  function proxyaddr(req: IncomingMessage, trust: Trust | string | string[] | number | boolean): string;
  namespace proxyaddr {
    function all(req: IncomingMessage, trust?: Trust | string | string[] | number | boolean): string[];
    function compile(val: string | string[]): Trust;
  }
  export = proxyaddr;
}
