import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import type { Db } from '../../src/db/connection.ts';
import { Refusal } from '../../src/domain/refusal.ts';
import {
  exportLedger,
  formatReport,
  formatStatementErrors,
  ledgerRows,
  parseStatement,
  type ReconcileItem,
  reconcile,
  type StatementRow,
} from '../../src/payments/reconcile.ts';
import { NotADemoLedger, sampleStatement } from '../../src/payments/sample-statement.ts';
import { memoryDatabase } from '../support/databases.ts';

/** The day the sample statement was written for: see its comment lines. */
const SEED_CLOCK = '2026-03-10T09:00:00Z';
const SAMPLE = readFileSync(fileURLToPath(new URL('../../fixtures/statements/orange-money-sample.csv', import.meta.url)), 'utf8');
const HEADER = 'date,transaction_id,reference,msisdn,amount,fee,status';
const GOOD = '2026-03-01 09:00:00,MP1,KS1,+22376000001,3500,100,SUCCESS';

let db: Db;
beforeEach(() => {
  db = memoryDatabase(new ManualClock(SEED_CLOCK));
});
afterEach(() => db.close());

const ids = (items: ReconcileItem[]) => items.map((i) => i.transactionId);
const contributions = () => db.prepare('SELECT COUNT(*) FROM contributions').pluck().get();

describe('parseStatement: a malformed statement gives line-numbered errors', () => {
  const cases: Array<{ label: string; csv: string; errors: Array<[number, RegExp]> }> = [
    { label: 'an empty file', csv: '', errors: [[1, /the file is empty/]] },
    { label: 'only blank lines and a byte-order mark', csv: '\uFEFF\n  \n\n', errors: [[1, /the file is empty/]] },
    { label: 'only comments', csv: '# statement\n# nothing\n', errors: [[1, /no header row/]] },
    {
      label: 'a header without the fee column',
      csv: `date,transaction_id,reference,msisdn,amount,status\n2026-03-01,MP1,,+22376000001,3500,SUCCESS\n`,
      errors: [[1, /missing column "fee" in the header/]],
    },
    {
      label: 'a header after a comment, missing two columns',
      csv: `# Orange Money\ndate,transaction_id,reference,msisdn,amount\n`,
      errors: [
        [2, /missing column "fee"/],
        [2, /missing column "status"/],
      ],
    },
    {
      label: 'no header at all (data on line 1)',
      csv: `${GOOD}\n`,
      errors: [[1, /the first row must be the header date,transaction_id,.*; found 2026-03-01 09:00:00,MP1/]],
    },
    { label: 'a column twice in the header', csv: `${HEADER},amount\n`, errors: [[1, /column "amount" appears twice/]] },
    {
      label: 'a row with too few fields',
      csv: `${HEADER}\n${GOOD}\n2026-03-01 09:00:00,MP2,KS2,+22376000001,3500\n`,
      errors: [[3, /5 fields where the header has 7: missing columns fee, status/]],
    },
    { label: 'a row with too many fields', csv: `${HEADER}\n${GOOD},extra\n`, errors: [[2, /8 fields where the header has 7/]] },
    {
      label: 'an amount with a space',
      csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,1 000,50,SUCCESS\n`,
      errors: [[2, /amount "1 000" is not a whole number/]],
    },
    {
      label: 'an amount with a dot',
      csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,1.000,50,SUCCESS\n`,
      errors: [[2, /amount "1.000" is not a whole number/]],
    },
    {
      label: 'an amount with decimals',
      csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,3500.00,50,SUCCESS\n`,
      errors: [[2, /amount "3500.00"/]],
    },
    {
      label: 'a zero amount',
      csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,0,0,SUCCESS\n`,
      errors: [[2, /amount must be at least 1 FCFA/]],
    },
    {
      label: 'a negative fee',
      csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,1000,-50,SUCCESS\n`,
      errors: [[2, /fee "-50" is not a whole number/]],
    },
    { label: 'an empty fee', csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,1000,,SUCCESS\n`, errors: [[2, /fee is empty/]] },
    {
      label: 'a day that does not exist',
      csv: `${HEADER}\n2026-02-30 10:00:00,MP1,,+22376000001,1000,50,SUCCESS\n`,
      errors: [[2, /date "2026-02-30 10:00:00" is not a date/]],
    },
    {
      label: 'a French-style date',
      csv: `${HEADER}\n01/03/2026 10:00,MP1,,+22376000001,1000,50,SUCCESS\n`,
      errors: [[2, /date "01\/03\/2026 10:00" is not a date/]],
    },
    {
      label: 'an hour out of range',
      csv: `${HEADER}\n2026-03-01 24:00:00,MP1,,+22376000001,1000,50,SUCCESS\n`,
      errors: [[2, /is not a date/]],
    },
    { label: 'an empty date', csv: `${HEADER}\n,MP1,,+22376000001,1000,50,SUCCESS\n`, errors: [[2, /date is empty/]] },
    {
      label: 'a msisdn without +',
      csv: `${HEADER}\n2026-03-01,MP1,,22376000001,1000,50,SUCCESS\n`,
      errors: [[2, /msisdn "22376000001" is not an E.164 number/]],
    },
    { label: 'a local msisdn', csv: `${HEADER}\n2026-03-01,MP1,,76000001,1000,50,SUCCESS\n`, errors: [[2, /msisdn "76000001"/]] },
    {
      label: 'an unknown status',
      csv: `${HEADER}\n2026-03-01,MP1,,+22376000001,1000,50,PENDING\n`,
      errors: [[2, /status "PENDING" must be SUCCESS or FAILED/]],
    },
    {
      label: 'an empty transaction id',
      csv: `${HEADER}\n2026-03-01,,,+22376000001,1000,50,SUCCESS\n`,
      errors: [[2, /transaction_id is empty/]],
    },
    {
      label: 'a duplicate transaction id',
      csv: `${HEADER}\n${GOOD}\n2026-03-02 09:00:00,MP2,,+22376000001,1000,50,SUCCESS\n2026-03-03 09:00:00,MP1,,+22376000002,1000,50,FAILED\n`,
      errors: [[4, /duplicate transaction_id "MP1" \(first on line 2\)/]],
    },
    {
      label: 'a quote that is never closed: the line where it opens, not the end of the file',
      csv: `${HEADER}\n${GOOD}\n2026-03-02,MP2,"KS2,+22376000001,1000,50,SUCCESS\n2026-03-03,MP3,,+22376000001,1000,50,SUCCESS\n\n`,
      errors: [[3, /CSV syntax: a quoted field starting on this line is never closed/]],
    },
    {
      label: 'a closing quote followed by other characters',
      csv: `${HEADER}\n2026-03-02,MP2,"KS2"x,+22376000001,1000,50,SUCCESS\n`,
      errors: [[2, /CSV syntax: a closing quote is followed by other characters/]],
    },
    {
      label: 'comments, blank lines and a quoted field over two lines all count in the line numbers',
      csv: `# statement of March\n\n${HEADER}\n\n2026-03-01,MP1,"KS1\nsecond line",+22376000001,3500,100,SUCCESS\n# a comment\n2026-03-02,MP2,,+22376000001,abc,100,SUCCESS\n`,
      errors: [[8, /amount "abc"/]],
    },
    {
      label: 'several rows and several errors in one row, in line order',
      csv: `${HEADER}\n2026-13-01,MP1,,+223760,1000,50,SUCCESS\n${GOOD.replace('MP1', 'MP9')}\n2026-03-01,MP3,,+22376000001,x,y,DONE\n`,
      errors: [
        [2, /date "2026-13-01"/],
        [2, /msisdn "\+223760"/],
        [4, /amount "x"/],
        [4, /fee "y"/],
        [4, /status "DONE"/],
      ],
    },
  ];

  it.each(cases)('$label', ({ csv, errors }) => {
    const parsed = parseStatement(csv);
    expect(parsed.errors.map((e) => e.line)).toEqual(errors.map(([line]) => line));
    parsed.errors.forEach((e, i) => expect(e.message).toMatch((errors[i] as [number, RegExp])[1]));
  });

  it('keeps no row that has an error, and every well-formed one', () => {
    const parsed = parseStatement(`${HEADER}\n${GOOD}\n2026-03-01,MP2,,+22376000001,1 000,50,SUCCESS\n`);
    expect(parsed.rows.map((r) => r.transactionId)).toEqual(['MP1']);
    expect(parsed.errors).toEqual([{ line: 3, message: expect.stringMatching(/amount "1 000"/) }]);
  });

  it('formats errors as file:line: message for a terminal', () => {
    const { errors } = parseStatement(`${HEADER}\n2026-03-01,MP1,,+22376000001,1000,50,PENDING\n`);
    expect(formatStatementErrors(errors, 'march.csv')).toBe('march.csv:2: status "PENDING" must be SUCCESS or FAILED');
  });
});

describe('parseStatement: what it accepts', () => {
  it.each([
    ['2026-03-01T09:15:30Z', '2026-03-01T09:15:30.000Z', '2026-03-01'],
    ['2026-03-01T09:15:30.250Z', '2026-03-01T09:15:30.250Z', '2026-03-01'],
    ['2026-03-01T23:30:00+01:00', '2026-03-01T22:30:00.000Z', '2026-03-01'],
    ['2026-03-01T00:30:00+01:00', '2026-02-28T23:30:00.000Z', '2026-02-28'],
    ['2026-03-01T09:15:30-0230', '2026-03-01T11:45:30.000Z', '2026-03-01'],
    ['2026-03-01 09:15:30', '2026-03-01T09:15:30.000Z', '2026-03-01'],
    ['2026-03-01T09:15', '2026-03-01T09:15:00.000Z', '2026-03-01'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z', '2026-03-01'],
    ['2028-02-29 12:00:00', '2028-02-29T12:00:00.000Z', '2028-02-29'],
  ])('the date %s (a time without a zone is Bamako time)', (text, iso, day) => {
    const { rows, errors } = parseStatement(`${HEADER}\n${text},MP1,,+22376000001,1000,50,SUCCESS\n`);
    expect(errors).toEqual([]);
    expect(rows[0]).toMatchObject({ date: iso, day });
  });

  it('finds columns by name in any order and case, ignores extra columns, trims, takes CRLF, a BOM and lower-case status', () => {
    const csv =
      '\uFEFFStatus , Amount,Fee,MSISDN,Reference,Transaction_ID,Date,Channel\r\nsuccess, 3500 ,100,+22376000001,KS1,MP1,2026-03-01 09:00:00,USSD\r\nFAILED,1000,50,+22376000002,,MP2,2026-03-02 10:00:00,APP\r\n';
    const { rows, errors } = parseStatement(csv);
    expect(errors).toEqual([]);
    expect(rows).toEqual<StatementRow[]>([
      {
        line: 2,
        date: '2026-03-01T09:00:00.000Z',
        day: '2026-03-01',
        transactionId: 'MP1',
        reference: 'KS1',
        msisdn: '+22376000001',
        amount: 3500,
        fee: 100,
        status: 'SUCCESS',
      },
      {
        line: 3,
        date: '2026-03-02T10:00:00.000Z',
        day: '2026-03-02',
        transactionId: 'MP2',
        reference: '',
        msisdn: '+22376000002',
        amount: 1000,
        fee: 50,
        status: 'FAILED',
      },
    ]);
  });

  it('takes a header-only file as a statement with no transactions', () => {
    expect(parseStatement(`${HEADER}\n`)).toEqual({ rows: [], errors: [] });
  });

  it('reads the sample statement without error, comments skipped, line numbers as in the file', () => {
    const { rows, errors } = parseStatement(SAMPLE);
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatchObject({ line: 6, transactionId: 'DEMO-SIK-KLE-0001-2' });
    expect(rows[9]).toMatchObject({ line: 15, transactionId: 'DEMO-SIK-KLE-0001-7' });
  });
});

describe('reconcile: the sample statement against the demo ledger seeded on 2026-03-10', () => {
  it('finds the deliberate mismatches, each with the rows from both sides', () => {
    const before = contributions();
    const report = reconcile(db, parseStatement(SAMPLE).rows);
    expect(contributions()).toBe(before);

    expect(report.period).toEqual({ from: '2025-05-02', to: '2026-03-01' });
    expect(report.balanced).toBe(false);
    expect(ids(report.matched)).toEqual([
      'DEMO-SIK-KLE-0001-2',
      'DEMO-SIK-KLE-0001-3',
      'DEMO-SIK-NIE-0002-2',
      'DEMO-SIK-KLE-0001-6',
      'DEMO-KOU-MPE-0003-2',
      'DEMO-SIK-KLE-0001-7',
    ]);
    for (const m of report.matched) {
      expect(m.ledger?.transactionId).toBe(m.transactionId);
      expect(m.statement?.amount).toBe(m.ledger?.amount);
      expect(m.statement?.fee).toBe(m.ledger?.fee);
      expect([m.amountDifference, m.feeDifference]).toEqual([0, 0]);
    }

    expect(report.amountMismatch).toEqual([
      {
        transactionId: 'DEMO-SIK-KLE-0001-5',
        statement: {
          line: 10,
          date: '2025-11-04T08:59:56.000Z',
          day: '2025-11-04',
          transactionId: 'DEMO-SIK-KLE-0001-5',
          reference: '',
          msisdn: '+22376000001',
          amount: 3000,
          fee: 0,
          status: 'SUCCESS',
        },
        ledger: expect.objectContaining({
          cardNumber: 'SIK-KLE-0001',
          transactionId: 'DEMO-SIK-KLE-0001-5',
          msisdn: '+22376000001',
          amount: 3500,
          fee: 0,
          paidOn: '2025-11-04',
          paidAt: '2025-11-04T09:00:00.000Z',
          reference: null,
        }),
        amountDifference: -500,
        feeDifference: 0,
      },
    ]);
    expect(report.feeMismatch).toEqual([
      {
        transactionId: 'DEMO-SIK-NIE-0002-3',
        statement: expect.objectContaining({ line: 9, amount: 1000, fee: 50, msisdn: '+22376000002' }),
        ledger: expect.objectContaining({ cardNumber: 'SIK-NIE-0002', amount: 1000, fee: 0, paidOn: '2025-08-08' }),
        amountDifference: 0,
        feeDifference: 50,
      },
    ]);
    expect(report.missingInLedger).toEqual([
      {
        transactionId: 'MP260214.1032.4F7A21',
        statement: expect.objectContaining({ line: 13, reference: 'KS2602144F7A21', msisdn: '+22376000003', amount: 2000, fee: 75 }),
        ledger: null,
        amountDifference: null,
        feeDifference: null,
        note: 'no sabatili payment has this transaction id or reference',
      },
    ]);
    expect(report.missingAtOperator).toEqual([
      {
        transactionId: 'DEMO-SIK-KLE-0001-4',
        statement: null,
        ledger: expect.objectContaining({
          cardNumber: 'SIK-KLE-0001',
          amount: 3500,
          fee: 0,
          paidOn: '2025-09-01',
          paidAt: '2025-09-01T09:00:00.000Z',
        }),
        amountDifference: null,
        feeDifference: null,
        note: 'not on the statement',
      },
    ]);
    expect(report.ignored.map((r) => [r.line, r.transactionId, r.status])).toEqual([[14, 'MP260220.0815.9C03B7', 'FAILED']]);

    expect(report.totals).toEqual({
      matched: { count: 6, statementAmount: 22000, statementFee: 0, ledgerAmount: 22000, ledgerFee: 0 },
      amountMismatch: { count: 1, statementAmount: 3000, statementFee: 0, ledgerAmount: 3500, ledgerFee: 0 },
      feeMismatch: { count: 1, statementAmount: 1000, statementFee: 50, ledgerAmount: 1000, ledgerFee: 0 },
      missingInLedger: { count: 1, statementAmount: 2000, statementFee: 75, ledgerAmount: 0, ledgerFee: 0 },
      missingAtOperator: { count: 1, statementAmount: 0, statementFee: 0, ledgerAmount: 3500, ledgerFee: 0 },
      ignored: { count: 1, amount: 1000, fee: 50 },
    });
    // Every Orange Money ledger row is accounted for exactly once.
    const all = ['matched', 'amountMismatch', 'feeMismatch', 'missingAtOperator'] as const;
    expect(all.flatMap((c) => report[c].map((i) => i.ledger?.contributionId)).sort()).toEqual(
      ledgerRows(db)
        .map((r) => r.contributionId)
        .sort(),
    );
  });

  it('expects on the statement only the ledger rows of the period', () => {
    const rows = parseStatement(SAMPLE).rows;
    // From October: the left-out September row is no longer expected.
    const october = reconcile(db, rows, { from: '2025-10-01' });
    expect(october.period).toEqual({ from: '2025-10-01', to: '2026-03-01' });
    expect(october.missingAtOperator).toEqual([]);
    // Rows on the statement are all compared, whatever the period.
    expect(october.matched).toHaveLength(6);
    // A period reaching back before the statement: older ledger rows are missing at the operator too.
    const year = reconcile(db, rows, { from: '2025-01-01', to: '2026-03-31' });
    expect(ids(year.missingAtOperator)).toEqual(['DEMO-SIK-KLE-0001-4']);
  });

  it('says what sabatili knows of a transaction missing in the ledger (a callback that never arrived)', () => {
    const household = db.prepare(`SELECT id FROM households WHERE card_number = 'KOU-MPE-0003'`).pluck().get();
    db.prepare(
      `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, operator_txn_id, created_at, updated_at)
       VALUES ('KS2602144F7A21', ?, '+22376000003', 2000, 75, 'member', 2075, 'v2', 'pending', 'MP260214.1032.4F7A21', '2026-02-14T10:32:00Z', '2026-02-14T10:32:00Z')`,
    ).run(household);
    const report = reconcile(db, parseStatement(SAMPLE).rows);
    expect(report.missingInLedger[0]?.payment).toEqual({
      reference: 'KS2602144F7A21',
      householdId: household,
      status: 'pending',
      failureReason: null,
      amount: 2000,
      fee: 75,
      operatorTxnId: 'MP260214.1032.4F7A21',
      operatorAmount: null,
      operatorMsisdn: null,
    });
    expect(report.missingInLedger[0]?.note).toMatch(/payment KS2602144F7A21 is pending: the operator's success callback never arrived/);
  });

  it("says when a transaction missing in the ledger waits for a manager's review, with what the operator reported", () => {
    const household = db.prepare(`SELECT id FROM households WHERE card_number = 'KOU-MPE-0003'`).pluck().get();
    db.prepare(
      `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, operator_txn_id,
         operator_amount, operator_fee, operator_msisdn, created_at, updated_at)
       VALUES ('KS2602144F7A21', ?, '+22376000003', 2500, 75, 'member', 2575, 'v2', 'review', 'MP260214.1032.4F7A21', 2000, 75, '+22376000003',
         '2026-02-14T10:32:00Z', '2026-02-14T10:32:00Z')`,
    ).run(household);
    const report = reconcile(db, parseStatement(SAMPLE).rows);
    expect(report.missingInLedger[0]?.note).toBe(
      "sabatili's payment KS2602144F7A21 of 2 500 FCFA waits for a manager's review: the operator reported 2 000 FCFA from +22376000003",
    );
  });

  it('reports a credited transaction that the operator marks FAILED, whatever its day', () => {
    const csv = `${HEADER}\n2026-03-01 08:59:57,DEMO-SIK-KLE-0001-7,,+22376000001,4000,0,SUCCESS\n2025-05-02 09:00:00,DEMO-SIK-KLE-0001-2,,+22376000001,3500,0,FAILED\n`;
    const report = reconcile(db, parseStatement(csv).rows, { from: '2026-03-01' });
    expect(ids(report.matched)).toEqual(['DEMO-SIK-KLE-0001-7']);
    expect(report.missingAtOperator).toEqual([
      expect.objectContaining({
        transactionId: 'DEMO-SIK-KLE-0001-2',
        statement: expect.objectContaining({ line: 3, status: 'FAILED' }),
        ledger: expect.objectContaining({ paidOn: '2025-05-02', amount: 3500 }),
        note: 'the statement marks this transaction FAILED (line 3) but the ledger credited it',
      }),
    ]);
    expect(report.totals.ignored.count).toBe(1);
  });

  it('lists a row whose amount and fee both differ once, under amount mismatch, with both differences', () => {
    const csv = `${HEADER}\n2026-03-01 08:59:57,DEMO-SIK-KLE-0001-7,,+22376000001,4500,100,SUCCESS\n`;
    const report = reconcile(db, parseStatement(csv).rows);
    expect(report.amountMismatch.map((i) => [i.transactionId, i.amountDifference, i.feeDifference])).toEqual([
      ['DEMO-SIK-KLE-0001-7', 500, 100],
    ]);
    expect(report.feeMismatch).toEqual([]);
  });

  it('ignores cash and agent contributions, which never reach the operator', () => {
    const report = reconcile(db, [], { from: '2025-01-01', to: '2026-12-31' });
    expect(report.missingAtOperator).toHaveLength(9);
    expect(report.missingAtOperator.every((i) => i.transactionId.startsWith('DEMO-') && i.ledger !== null)).toBe(true);
    expect(reconcile(db, []).missingAtOperator).toEqual([]);
  });

  it('refuses a bad period', () => {
    expect(() => reconcile(db, [], { from: '2026-3-1' })).toThrow(/from: "2026-3-1" is not a day/);
    expect(() => reconcile(db, [], { from: '2026-03-10', to: '2026-03-01' })).toThrow(/is after to/);
    expect(() => exportLedger(db, { to: '2026-02-30' })).toThrow(/to: "2026-02-30" is not a day/);
  });

  it('prints the totals and every row that is not matched for a terminal', () => {
    const text = formatReport(reconcile(db, parseStatement(SAMPLE).rows));
    expect(text).toMatch(/2025-05-02 to 2026-03-01/);
    expect(text).toMatch(/matched\s+6 +operator 22 000 FCFA/);
    expect(text).toMatch(/DEMO-SIK-KLE-0001-5: operator line 10: SUCCESS .* 3 000 FCFA fee 0; ledger #\d+ SIK-KLE-0001 .* 3 500 FCFA/);
    expect(text).toMatch(/DEMO-SIK-KLE-0001-4: not on the statement; ledger/);
    expect(text).toMatch(/MP260214\.1032\.4F7A21: .*not in the ledger/);
    expect(text).not.toMatch(/DEMO-SIK-KLE-0001-2:/);
    expect(text).toMatch(/do NOT agree/);
  });
});

describe('exportLedger: the ledger for the operator, in the statement layout', () => {
  it('writes the Orange Money rows, oldest first, with the header', () => {
    const lines = exportLedger(db).trimEnd().split('\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines).toHaveLength(10);
    expect(lines[1]).toBe("2025-05-02T09:00:00.000Z,DEMO-SIK-KLE-0001-2,,'+22376000001,3500,0,SUCCESS");
    expect(lines[9]).toBe("2026-03-01T09:00:00.000Z,DEMO-SIK-KLE-0001-7,,'+22376000001,4000,0,SUCCESS");
    expect(lines.some((l) => l.includes('KOU-VIL-0004'))).toBe(false);
  });

  it('round-trips: export, parse, reconcile → everything matched', () => {
    const parsed = parseStatement(exportLedger(db));
    expect(parsed.errors).toEqual([]);
    const report = reconcile(db, parsed.rows);
    expect(report.balanced).toBe(true);
    expect(report.matched).toHaveLength(9);
    expect(report.totals.matched).toEqual({ count: 9, statementAmount: 30000, statementFee: 0, ledgerAmount: 30000, ledgerFee: 0 });
  });

  it('keeps to the period, and carries the payment reference, payer and fee of a sabatili payment', () => {
    const household = db.prepare(`SELECT id FROM households WHERE card_number = 'SIK-KLE-0001'`).pluck().get();
    db.prepare(
      `INSERT INTO payments (reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status, operator_txn_id, created_at, updated_at)
       VALUES ('KS260310ABCDEF', ?, '+22376000009', 1000, 50, 'member', 1050, 'v2', 'succeeded', 'MP260310.0905.ABCDEF', '2026-03-10T09:05:00Z', '2026-03-10T09:06:00Z')`,
    ).run(household);
    db.prepare(
      `INSERT INTO contributions (household_id, amount, fee, channel, operator_txn_id, paid_on, paid_at, recorded_at)
       VALUES (?, 1000, 50, 'orange_money', 'MP260310.0905.ABCDEF', '2026-03-10', '2026-03-10T09:06:00.000Z', '2026-03-10T09:06:00.000Z')`,
    ).run(household);
    const csv = exportLedger(db, { from: '2026-03-01', to: '2026-03-10' });
    expect(csv).toBe(
      `${HEADER}\n2026-03-01T09:00:00.000Z,DEMO-SIK-KLE-0001-7,,'+22376000001,4000,0,SUCCESS\n` +
        `2026-03-10T09:06:00.000Z,MP260310.0905.ABCDEF,KS260310ABCDEF,'+22376000009,1000,50,SUCCESS\n`,
    );
    const report = reconcile(db, parseStatement(csv).rows);
    expect(report.balanced).toBe(true);
    expect(report.matched.map((i) => i.ledger?.reference)).toEqual([null, 'KS260310ABCDEF']);
    expect(exportLedger(db, { to: '2025-04-30' })).toBe(`${HEADER}\n`);
  });
});

describe('sampleStatement: the same deliberate mismatches whatever day the demo was seeded (README walk-through)', () => {
  const seededOn = (day: string) => {
    return memoryDatabase(new ManualClock(`${day}T09:00:00Z`));
  };

  it.each(['2026-03-10', '2026-12-03', '2027-02-28', '2028-07-15'])('seeded on %s', (day) => {
    const demo = seededOn(day);
    try {
      const parsed = parseStatement(sampleStatement(ledgerRows(demo)));
      expect(parsed.errors).toEqual([]);
      const report = reconcile(demo, parsed.rows);
      expect(ids(report.matched).sort()).toEqual([
        'DEMO-KOU-MPE-0003-2',
        'DEMO-SIK-KLE-0001-2',
        'DEMO-SIK-KLE-0001-3',
        'DEMO-SIK-KLE-0001-6',
        'DEMO-SIK-KLE-0001-7',
        'DEMO-SIK-NIE-0002-2',
      ]);
      expect(report.amountMismatch.map((i) => [i.transactionId, i.amountDifference])).toEqual([['DEMO-SIK-KLE-0001-5', -500]]);
      expect(report.feeMismatch.map((i) => [i.transactionId, i.feeDifference])).toEqual([['DEMO-SIK-NIE-0002-3', 50]]);
      expect(report.missingInLedger).toHaveLength(1);
      expect(report.missingInLedger[0]?.statement).toMatchObject({ msisdn: '+22376000003', amount: 2000, fee: 75 });
      expect(ids(report.missingAtOperator)).toEqual(['DEMO-SIK-KLE-0001-4']);
      expect(report.totals.ignored.count).toBe(1);
    } finally {
      demo.close();
    }
  });

  it('payments made since the seed are on it and match', () => {
    db.prepare(
      `INSERT INTO contributions (household_id, amount, fee, channel, operator_txn_id, paid_on, paid_at, recorded_at)
       VALUES (1, 1250, 100, 'orange_money', 'MP260310.1000.ABCDEF', '2026-03-10', '2026-03-10T10:00:00.000Z', '2026-03-10T10:00:00.000Z')`,
    ).run();
    const report = reconcile(db, parseStatement(sampleStatement(ledgerRows(db))).rows);
    expect(ids(report.matched)).toContain('MP260310.1000.ABCDEF');
    expect(ids(report.missingAtOperator)).toEqual(['DEMO-SIK-KLE-0001-4']);
  });

  it('a database without the demo ledger is refused, as a user error', () => {
    const empty = memoryDatabase();
    try {
      expect(() => sampleStatement(ledgerRows(empty))).toThrow(NotADemoLedger);
      expect(() => sampleStatement(ledgerRows(empty))).toThrow(/sabatili seed/);
      expect(new NotADemoLedger('x')).toBeInstanceOf(Refusal);
    } finally {
      empty.close();
    }
  });
});
