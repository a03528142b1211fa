/** The voice settings: defaults, and a clear error naming each bad value. */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_VOICE_NUMBER, loadConfig } from '../../src/config.ts';

const production = { NODE_ENV: 'production', PAYMENT_CALLBACK_SECRET: 'p'.repeat(32), GATEWAY_CALLBACK_KEY: 'g'.repeat(32) };

describe('voice configuration', () => {
  it('defaults: missed-call mode off, the demo voice number outside production, none in production, the live voice API', () => {
    expect(loadConfig({})).toMatchObject({ VOICE_CALL_BACK_MISSED: false, VOICE_NUMBER: DEMO_VOICE_NUMBER });
    expect(loadConfig({}).AT_VOICE_URL).toBeUndefined();
    expect(loadConfig(production).VOICE_NUMBER).toBeUndefined();
    expect(loadConfig({ VOICE_CALL_BACK_MISSED: 'on', VOICE_NUMBER: '+22344000000', AT_VOICE_URL: 'http://127.0.0.1:9/v' })).toMatchObject({
      VOICE_CALL_BACK_MISSED: true,
      VOICE_NUMBER: '+22344000000',
      AT_VOICE_URL: 'http://127.0.0.1:9/v',
    });
  });

  it.each([
    ['VOICE_CALL_BACK_MISSED', 'maybe', /VOICE_CALL_BACK_MISSED: must be one of true\/false/],
    ['VOICE_NUMBER', '76000001', /VOICE_NUMBER: must be an E\.164 number/],
    ['AT_VOICE_URL', 'voice.local', /AT_VOICE_URL: must be a URL/],
    ['VOICE_CALL_TIMEOUT_MS', '0', /VOICE_CALL_TIMEOUT_MS/],
  ])('%s=%s is refused with its name and value', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
    expect(() => loadConfig({ [name]: value })).toThrow(`(got "${value}")`);
  });

  it('production with missed-call mode requires the voice number and the API key', () => {
    expect(() => loadConfig({ ...production, VOICE_CALL_BACK_MISSED: 'true' })).toThrow(
      /VOICE_NUMBER: required[\s\S]*AT_API_KEY: required/,
    );
    expect(
      loadConfig({ ...production, VOICE_CALL_BACK_MISSED: 'true', VOICE_NUMBER: '+22320200000', AT_API_KEY: 'k' }).VOICE_CALL_BACK_MISSED,
    ).toBe(true);
  });
});
