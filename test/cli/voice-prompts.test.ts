/** `sabatili voice prompts status|export|import`: a recording session's round trip on a temporary VOICE_DIR. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { seedDemo } from '../../src/db/seed.ts';
import { createAuditLog } from '../../src/db/staff.ts';
import { decodeWav, encodeWav } from '../../src/voice/wav.ts';
import { sabatili } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sabatili-voice-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = {
  DATABASE_PATH: join(dir, 'demo.db'),
  VOICE_DIR: join(dir, 'voice'),
  // No synthesiser: every slot not recorded is "missing", and nothing runs eSpeak.
  VOICE_SYNTHESIZER: '/nonexistent/espeak-ng',
};
const prompts = (...args: string[]) => sabatili(['voice', 'prompts', ...args], { env });

describe('sabatili voice prompts', () => {
  it('exports the texts to read, refuses a session with a bad take whole, imports a good one, and counts it', async () => {
    const db = openDatabase(env.DATABASE_PATH);
    seedDemo(db, new ManualClock('2026-03-10T09:00:00Z'));
    db.close();

    const before = await prompts('status');
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/^fr: 0 recorded, 0 synthetic, (\d+) missing \(of \1\)$/m);
    expect(before.stdout).toMatch(/^bm: 0 recorded/m);
    expect(before.stdout).toMatch(/^fr\tmain\.coverage\tmissing\t/m);

    const session = join(dir, 'session');
    const exported = await prompts('export', session);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/voice prompts export: \d+ slots written/);
    const text = readFileSync(join(session, 'fr', 'main.coverage.txt'), 'utf8').trim();
    expect(text.length).toBeGreaterThan(0);
    expect(readFileSync(join(session, 'manifest.csv'), 'utf8')).toMatch(/^langue,slot,statut,texte,où,fichier à rendre/);
    expect(existsSync(join(session, 'bm', 'main.coverage.txt'))).toBe(true);

    // A session: one good take at 16 kHz (converted to 8 kHz); one that is not a WAV; one for no slot.
    const good = encodeWav([new Int16Array(16_000).fill(321)]);
    good.writeUInt32LE(16_000, 24);
    writeFileSync(join(session, 'fr', 'main.coverage.wav'), good);
    writeFileSync(join(session, 'bm', 'main.coverage.wav'), 'pas un son');
    writeFileSync(join(session, 'fr', 'nothing.here.wav'), good);
    const refused = await prompts('import', session);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("2 fichier(s) refusé(s), rien n'a été importé");
    expect(refused.stderr).toContain('bm/main.coverage.wav: Fichier refusé: il faut un WAV PCM 16 bits');
    expect(refused.stderr).toContain('fr/nothing.here.wav: aucun message « nothing.here »');
    expect(existsSync(join(env.VOICE_DIR, 'recordings', 'fr', 'main.coverage.wav'))).toBe(false);

    rmSync(join(session, 'bm', 'main.coverage.wav'));
    rmSync(join(session, 'fr', 'nothing.here.wav'));
    const imported = await prompts('import', session);
    expect(imported).toMatchObject({ code: 0 });
    expect(imported.stdout).toContain('fr/main.coverage: 1 s');
    expect(imported.stdout).toContain('voice prompts import: 1 recordings');
    const stored = decodeWav(readFileSync(join(env.VOICE_DIR, 'recordings', 'fr', 'main.coverage.wav')));
    expect(stored.length).toBe(8000);

    const after = await prompts('status');
    expect(after.stdout).toMatch(/^fr: 1 recorded, 0 synthetic, \d+ missing/m);
    expect(after.stdout).not.toMatch(/^fr\tmain\.coverage\t/m);

    const check = openDatabase(env.DATABASE_PATH);
    const audit = createAuditLog(check);
    expect(audit.list({ action: 'voice.record' })).toMatchObject([{ entity: 'voice_prompt', entityId: 'fr/main.coverage' }]);
    expect(audit.list({ action: 'cli.run' }).map((r) => r.entityId)).toContain('voice prompts import');
    check.close();
  });
});
