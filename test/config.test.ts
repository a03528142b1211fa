import { execFileSync, spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger, maskPhone } from '../src/log.ts';

describe('configuration', () => {
  it('has working defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, DATABASE_PATH: 'data/sabatili.db', USSD_SERVICE_CODE: '*384*123#', SMS_TRANSPORT: 'simulator', SIMULATOR_ENABLED: true });
  });

  it('names every bad variable in one message', () => {
    expect(() => loadConfig({ PORT: 'abc', USSD_SERVICE_CODE: '384', SIMULATOR_ENABLED: 'maybe' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'abc', USSD_SERVICE_CODE: '384', SIMULATOR_ENABLED: 'maybe' });
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain('PORT');
      expect(m).toContain('USSD_SERVICE_CODE: must look like *384*123#');
      expect(m).toContain('SIMULATOR_ENABLED');
    }
  });

  it('requires what production and the real SMS gateway need', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/PAYMENT_CALLBACK_SECRET/);
    expect(() => loadConfig({ SMS_TRANSPORT: 'africastalking' })).toThrow(/AT_API_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', PAYMENT_CALLBACK_SECRET: 'x'.repeat(32), GATEWAY_CALLBACK_KEY: 'k'.repeat(32) }).SIMULATOR_ENABLED).toBe(false);
  });

  it('stops the CLI with exit code 1 and the message, never a stack trace', () => {
    const r = spawnSync('node', ['bin/sabatili.js', 'seed'], { env: { ...process.env, PORT: 'seventy' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Invalid configuration:\n  PORT:');
    expect(r.stderr).not.toContain('    at ');
  });

  it('documents every variable in .env.example', () => {
    const example = execFileSync('cat', ['.env.example'], { encoding: 'utf8' });
    for (const key of Object.keys(loadConfig({}))) expect(example, key).toMatch(new RegExp(`^#? ?${key}=`, 'm'));
  });
});

describe('logs', () => {
  it('mask phone numbers in fields and messages', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('info', sink as never);
    log.info({ phone: '+22376000001', to: '+22366000004' }, 'hop from +22376000003');
    const out = lines.join('');
    expect(out).not.toMatch(/76000001|66000004|76000003/);
    expect(out).toContain('+223******01');
    expect(maskPhone('+22376000003')).toBe('+223******03');
  });
});
