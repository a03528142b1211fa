/**
 * No secret is a constant in the source (issue 14): outside production the payment callback secret
 * is generated per database, so the old built-in development secret opens nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connection.ts';
import { secretFor } from '../../src/db/secrets.ts';
import { SIGNATURE_HEADER, sign } from '../../src/payments/signature.ts';
import { startTestApp } from '../support/app.ts';

const dir = mkdtempSync(join(tmpdir(), 'sabatili-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the development secret', () => {
  it('is random per database and kept: two databases differ, the same one reopened agrees', () => {
    const a = openDatabase(join(dir, 'a.db'));
    const b = openDatabase(join(dir, 'b.db'));
    const first = secretFor(a, 'payment_callback');
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(secretFor(b, 'payment_callback')).not.toBe(first);
    // A second process on the same file (the server and a CLI command) gets the same value.
    const a2 = openDatabase(join(dir, 'a.db'));
    expect(secretFor(a2, 'payment_callback')).toBe(first);
    for (const db of [a, b, a2]) db.close();
    const reopened = openDatabase(join(dir, 'a.db'));
    expect(secretFor(reopened, 'payment_callback')).toBe(first);
    reopened.close();
  });

  it('is what the server verifies payment callbacks with when PAYMENT_CALLBACK_SECRET is unset', async () => {
    const app = await startTestApp({ env: { NODE_ENV: 'development' } });
    try {
      expect(app.services.config.PAYMENT_CALLBACK_SECRET).toBeUndefined();
      expect(app.services.paymentSecret).toBe(secretFor(app.services.db, 'payment_callback'));
    } finally {
      await app.close();
    }
  });

  it("refuses (401) a callback signed with the old built-in 'sabatili-development-callback-secret'", async () => {
    const app = await startTestApp({ env: { NODE_ENV: 'development' } });
    try {
      const before = app.services.db.prepare('SELECT COUNT(*) FROM contributions').pluck().get();
      const raw = JSON.stringify({
        txnId: 'MP-FORGED-1',
        reference: 'KS-ANY',
        status: 'SUCCESS',
        amount: 1000,
        fee: 50,
        msisdn: '+22376000001',
        timestamp: '2026-03-10T09:00:00Z',
      });
      const res = await fetch(`${app.url}/payments/orange-money/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(raw, 'sabatili-development-callback-secret') },
        body: raw,
      });
      expect(res.status).toBe(401);
      expect(app.services.db.prepare('SELECT COUNT(*) FROM contributions').pluck().get()).toBe(before);
    } finally {
      await app.close();
    }
  });
});
