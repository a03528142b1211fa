/**
 * The floor: node:http alone, reading the gateway's form (URLSearchParams on the whole body) and
 * answering a constant screen of the same size as sabatili's home menu. No framework, no session:
 * what any Node server pays for a hop before doing anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveForBench } from './child.ts';

const SCREEN = 'CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Rappels SMS\n5 Etre rappelé par UTM\n6 Langue / Kan';
const LENGTH = Buffer.byteLength(SCREEN);

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'POST' || !(req.url === '/ussd' || req.url?.startsWith('/ussd?'))) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (!form.get('sessionId')) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('sessionId: is required\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': LENGTH }).end(SCREEN);
  });
}

await serveForBench(handle);
