/**
 * `sabatili ledger export --disbursements` and `sabatili reconcile FILE --disbursements`: the
 * disbursement ledger for the operator, and the operator's transfer statement against it (exit 0
 * when they agree, 1 when they do not, 2 for a bad period).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/claims/batches.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { sabatili } from '../support/cli.ts';
import { approvedClaims, facilityId, staff } from './support.ts';

let app: TestApp;
let batch: Batch;
beforeAll(async () => {
  app = await startTestApp({ env: { SIMULATOR_DELIVERY_DELAY_MS: '600000' } });
  const officer = await staff(app, 'agent@utm.ml', 'officer');
  const manager = await staff(app, 'chef@utm.ml', 'manager');
  const claims = approvedClaims(app, 'CSCOM-KLE', [1500, 2500], manager);
  const b = app.services.batches.prepare(
    facilityId(app, 'CSCOM-KLE'),
    claims.map((c) => c.id),
    officer,
  );
  await app.services.batches.approve(b.id, manager);
  await app.services.orange.flush();
  batch = app.services.batches.get(b.id);
});
afterAll(() => app.close());

describe('the disbursement ledger on the command line', () => {
  const env = () => ({ NODE_ENV: 'test', DATABASE_PATH: app.dbPath });

  it('exports the paid batch in the statement layout, and reconciles a statement with it', async () => {
    expect(batch.status).toBe('paid');
    const out = await sabatili(['ledger', 'export', '--disbursements'], { env: env() });
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual([
      'date,transaction_id,reference,msisdn,amount,fee,status',
      expect.stringMatching(
        new RegExp(`^[^,]+,${batch.operatorTxnId?.replaceAll('.', '\\.')},${batch.reference}-1,'\\+22379000001,4000,0,SUCCESS$`),
      ),
    ]);
    const file = join(app.dbPath, '..', 'transfers.csv');
    writeFileSync(file, out.stdout);
    const same = await sabatili(['reconcile', file, '--disbursements'], { env: env() });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('The statement and the ledger agree.');

    writeFileSync(file, out.stdout.replace(',4000,0,SUCCESS', ',4000,0,FAILED'));
    const differs = await sabatili(['reconcile', file, '--disbursements'], { env: env() });
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/missingAtOperator[\s\S]*le relevé marque cette transaction FAILED/);

    expect((await sabatili(['reconcile', file, '--disbursements', '--from', '2026-13-01'], { env: env() })).code).toBe(2);
  });
});
