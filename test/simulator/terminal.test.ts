import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

/** `sabatili simulate …` as a tester runs it, with optional typed lines on standard input. */
function simulate(args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/sabatili.js', 'simulate', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin);
  });
}

describe('the terminal phone', () => {
  let app: TestApp;
  let broken: Server;
  let brokenUrl = '';
  beforeAll(async () => {
    app = await startTestApp();
    // An application that breaks the protocol: a 500 on /500, a body without CON/END elsewhere.
    broken = createServer((req, res) => {
      if (req.url === '/500') res.writeHead(500).end('boom');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('Hello');
    });
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', () => r()));
    const a = broken.address();
    brokenUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    await new Promise<void>((r) => broken.close(() => r()));
  });

  // First: +22376000001 has no session cut off yet, so no resume offer comes before the menu.
  it('plays a golden transcript against a URL and reports the differences', async () => {
    const ok = await simulate(['--url', `${app.url}/ussd`, '--script', 'fixtures/transcripts/main/fr.menu.yaml']);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('every screen as expected');
    const wrong = await simulate(['--url', `${brokenUrl}/ussd`, '--script', 'fixtures/transcripts/main/fr.menu.yaml']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('screen differs');
  });

  it('plays answers non-interactively and prints every screen framed, with its length', async () => {
    const r = await simulate(['--url', `${app.url}/ussd`, '--phone', '+22376000001', '--input', '1*1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('│ Kénéya Sabatili          │');
    expect(r.out).toContain('> 1');
    expect(r.out).toContain('│ Bénéficiaires (5):       │');
    expect(r.out).toMatch(/155 chars/);
  });

  it('is driven by lines typed on standard input, and hangs up on an empty line', async () => {
    const r = await simulate(['--url', `${app.url}/ussd`, '--phone', '+22376000003'], '3\n\n');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('N ka saraliw (2):');
    expect(r.out).toContain('Hung up.');
  });

  it('exits non-zero with a network error when the application answers 500 or without CON/END', async () => {
    const five = await simulate(['--url', `${brokenUrl}/500`, '--input', '1']);
    expect(five.code).toBe(1);
    expect(five.err).toContain('network error: the application answered HTTP 500');
    const bare = await simulate(['--url', `${brokenUrl}/ussd`, '--input', '1']);
    expect(bare.code).toBe(1);
    expect(bare.err).toContain('does not start with "CON " or "END "');
  });

});
