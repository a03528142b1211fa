import { execFileSync, spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger, maskPhone } from '../src/log.ts';
import { hashPassword } from '../src/office/passwords.ts';

describe('configuration', () => {
  it('has working defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      DATABASE_PATH: 'data/sabatili.db',
      USSD_SERVICE_CODE: '*384*123#',
      SMS_TRANSPORT: 'simulator',
      SIMULATOR_ENABLED: true,
    });
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

  it('bounds what SMS cost by default: a daily cap, answers per sender, Mali only', () => {
    expect(loadConfig({})).toMatchObject({ SMS_DAILY_CAP: 250_000, SMS_REPLIES_PER_SENDER_PER_HOUR: 5, SMS_ALLOWED_COUNTRIES: ['ML'] });
    expect(loadConfig({ SMS_ALLOWED_COUNTRIES: 'ML, sn,CI' }).SMS_ALLOWED_COUNTRIES).toEqual(['ML', 'SN', 'CI']);
    expect(loadConfig({ SMS_DAILY_CAP: '0' }).SMS_DAILY_CAP).toBe(0);
  });

  it.each([
    ['ML,XX', '"XX"'],
    ['Mali', '"MALI"'],
    ['ML,,SN', '""'],
    ['223', '"223"'],
  ])('refuses SMS_ALLOWED_COUNTRIES=%s, naming the bad code', (value, named) => {
    expect(() => loadConfig({ SMS_ALLOWED_COUNTRIES: value })).toThrow(ConfigError);
    expect(() => loadConfig({ SMS_ALLOWED_COUNTRIES: value })).toThrow(
      `SMS_ALLOWED_COUNTRIES: ${named}: not an ISO 3166 alpha-2 country code (e.g. ML or ML,SN,CI) (got ${JSON.stringify(value)})`,
    );
  });

  it('refuses a per-sender answer limit below 1', () => {
    expect(() => loadConfig({ SMS_REPLIES_PER_SENDER_PER_HOUR: '0' })).toThrow(/SMS_REPLIES_PER_SENDER_PER_HOUR/);
  });

  it('requires what production and the real SMS gateway need', () => {
    expect(() => loadConfig({ SMS_TRANSPORT: 'africastalking' })).toThrow(/AT_API_KEY/);
    expect(
      loadConfig({ NODE_ENV: 'production', PAYMENT_CALLBACK_SECRET: 'x'.repeat(32), GATEWAY_CALLBACK_KEY: 'k'.repeat(32) })
        .SIMULATOR_ENABLED,
    ).toBe(false);
  });

  it('binds loopback unless HOST says otherwise', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });

  describe('production refuses to start without its secrets', () => {
    const good = { NODE_ENV: 'production', PAYMENT_CALLBACK_SECRET: 'p'.repeat(32), GATEWAY_CALLBACK_KEY: 'g'.repeat(32) };
    it.each([
      ['without GATEWAY_CALLBACK_KEY', { GATEWAY_CALLBACK_KEY: '' }, /GATEWAY_CALLBACK_KEY: required when NODE_ENV=production/],
      [
        'with a short GATEWAY_CALLBACK_KEY',
        { GATEWAY_CALLBACK_KEY: 'g'.repeat(31) },
        /GATEWAY_CALLBACK_KEY: must be at least 32 characters/,
      ],
      ['without PAYMENT_CALLBACK_SECRET', { PAYMENT_CALLBACK_SECRET: '' }, /PAYMENT_CALLBACK_SECRET: required when NODE_ENV=production/],
      [
        'with a PAYMENT_CALLBACK_SECRET of 16 characters',
        { PAYMENT_CALLBACK_SECRET: 'p'.repeat(16) },
        /PAYMENT_CALLBACK_SECRET: must be at least 32 characters when NODE_ENV=production/,
      ],
      [
        'with a PAYMENT_CALLBACK_SECRET of 31 characters',
        { PAYMENT_CALLBACK_SECRET: 'p'.repeat(31) },
        /PAYMENT_CALLBACK_SECRET: must be at least 32/,
      ],
    ])('%s → ConfigError naming it', (_label, over, message) => {
      expect(() => loadConfig({ ...good, ...over })).toThrow(ConfigError);
      expect(() => loadConfig({ ...good, ...over })).toThrow(message);
    });
    it('starts with both', () => {
      expect(loadConfig(good)).toMatchObject({ NODE_ENV: 'production', SIMULATOR_ENABLED: false });
    });
    it('names both when both are missing', () => {
      expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/PAYMENT_CALLBACK_SECRET[\s\S]*GATEWAY_CALLBACK_KEY/);
    });
  });

  it('checks the gateway allow-list, the simulator URLs and TRUST_PROXY at load', () => {
    expect(loadConfig({ GATEWAY_ALLOWED_IPS: '196.201.214.0/24, 2c0f:f738::/32,10.0.0.1' }).GATEWAY_ALLOWED_IPS).toEqual([
      '196.201.214.0/24',
      '2c0f:f738::/32',
      '10.0.0.1',
    ]);
    expect(() => loadConfig({ GATEWAY_ALLOWED_IPS: '196.201.214.0/33' })).toThrow(
      /GATEWAY_ALLOWED_IPS: "196.201.214.0\/33" has a bad prefix length/,
    );
    expect(() => loadConfig({ GATEWAY_ALLOWED_IPS: 'africastalking.com' })).toThrow(
      /GATEWAY_ALLOWED_IPS: "africastalking.com" is not an IPv4 or IPv6 address/,
    );
    expect(() => loadConfig({ GATEWAY_ALLOWED_IPS: '2c0f:f738::/129' })).toThrow(/GATEWAY_ALLOWED_IPS/);
    expect(loadConfig({ SIMULATOR_ALLOWED_URLS: 'http://10.0.0.7:8080/ussd,https://x.example/' }).SIMULATOR_ALLOWED_URLS).toHaveLength(2);
    expect(() => loadConfig({ SIMULATOR_ALLOWED_URLS: 'file:///etc/passwd' })).toThrow(
      /SIMULATOR_ALLOWED_URLS: "file:\/\/\/etc\/passwd" is not an http\(s\) URL/,
    );
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
  });

  it('hashes staff passwords at full cost unless NODE_ENV=test asks for less', async () => {
    expect(loadConfig({}).STAFF_PASSWORD_COST).toBe(15);
    expect(await hashPassword('trois chameaux au marché')).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(() => loadConfig({ STAFF_PASSWORD_COST: '10' })).toThrow(/STAFF_PASSWORD_COST: below 15 only when NODE_ENV=test/);
    expect(() => loadConfig({ NODE_ENV: 'development', STAFF_PASSWORD_COST: '14' })).toThrow(/STAFF_PASSWORD_COST/);
    expect(loadConfig({ NODE_ENV: 'test', STAFF_PASSWORD_COST: '10' }).STAFF_PASSWORD_COST).toBe(10);
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
