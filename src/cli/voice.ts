import { resolve } from 'node:path';
import { systemClock } from '../clock.ts';
import { LANGUAGES } from '../i18n/catalog.ts';
import { type Cli, cliActor } from './context.ts';

/** `sabatili voice prompts status`: counts per language, then every slot not recorded yet (flagged ones say why). */
export async function status(cli: Cli): Promise<number> {
  const rows = (await cli.services()).voice.studio.survey();
  for (const lang of LANGUAGES) {
    const mine = rows.filter((r) => r.lang === lang);
    const n = (s: string) => mine.filter((r) => r.status === s).length;
    cli.print(`${lang}: ${n('recorded')} recorded, ${n('synthetic')} synthetic, ${n('missing')} missing (of ${mine.length})`);
  }
  const todo = rows.filter((r) => r.status !== 'recorded');
  if (todo.length > 0) cli.print(`\nto record (${todo.length}):`);
  for (const r of todo) cli.print(`${r.lang}\t${r.slot}\t${r.status}${r.problem ? ` (${r.problem})` : ''}\t${r.text}`);
  return 0;
}

/** `sabatili voice prompts export DIR`: the script of a recording session, one text file per slot. */
export async function exportPrompts(cli: Cli, dir: string): Promise<number> {
  const n = (await cli.services()).voice.studio.exportTo(resolve(dir));
  cli.print(`voice prompts export: ${n} slots written to ${resolve(dir)} (<lang>/<slot>.txt, manifest.csv)`);
  return 0;
}

/** `sabatili voice prompts import DIR`: the session's takes as recordings, all or none; one audit row per take. */
export async function importPrompts(cli: Cli, dir: string): Promise<number> {
  const s = await cli.services();
  const saved = s.voice.studio.importFrom(resolve(dir));
  for (const t of saved) {
    s.office.audit.record(cliActor(), systemClock.now(), {
      action: 'voice.record',
      entity: 'voice_prompt',
      entityId: `${t.lang}/${t.slot}`,
      after: { lang: t.lang, slot: t.slot, bytes: t.bytes, seconds: t.seconds, replaced: t.replaced, source: 'import' },
    });
    cli.print(`${t.lang}/${t.slot}: ${t.seconds} s${t.replaced ? ' (replaces the previous take)' : ''}`);
  }
  cli.print(`voice prompts import: ${saved.length} recordings`);
  return 0;
}
