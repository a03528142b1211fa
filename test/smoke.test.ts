import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.ts';

describe('a member dials the short code', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('shows the main menu in the contract order', async () => {
    const res = await app.hop('smoke-1', '+22376000001', '');
    expect(res.status).toBe(200);
    expect(res.body).toBe(
      'CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Alertes SMS\n5 Etre rappelé par UTM\n6 Langue / Kan',
    );
  });
});
