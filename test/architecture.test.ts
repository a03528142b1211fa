/**
 * The module map (`../shared/architecture.json`, beside the project) against the code: an import
 * that the map says must never exist fails here, with the map's reason. The map's parts are folders;
 * imports inside one part, and files in no part (src/clock.ts, src/config.ts...), are not judged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const MAP = join(ROOT, '..', 'shared', 'architecture.json');

interface ArchitectureMap {
  parts: Record<string, { is: string[] }>;
  never: Array<[string, string, string]>;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Relative imports, static and dynamic, with the line they are on. */
function importsOf(text: string): Array<{ spec: string; line: number }> {
  const out: Array<{ spec: string; line: number }> = [];
  const re =
    /(?:^|[\s;])(?:import|export)\b[^'"]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)|^\s*import\s*['"](\.[^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    const at = m.index + m[0].search(/import|export/);
    out.push({ spec: (m[1] ?? m[2] ?? m[3]) as string, line: text.slice(0, at).split('\n').length });
  }
  return out;
}

describe.skipIf(!existsSync(MAP))('the module map and the code agree', () => {
  const map = JSON.parse(existsSync(MAP) ? readFileSync(MAP, 'utf8') : '{"parts":{},"never":[]}') as ArchitectureMap;
  const partOf = (file: string): string | null => {
    const rel = relative(ROOT, file);
    for (const [name, part] of Object.entries(map.parts)) if (part.is.some((folder) => rel.startsWith(folder))) return name;
    return null;
  };
  const never = new Map(map.never.map(([from, to, why]) => [`${from} → ${to}`, why]));

  it('finds the parts and the imports it judges (a check that cannot fail is no check)', () => {
    expect(Object.keys(map.parts)).toEqual(expect.arrayContaining(['Flows', 'Db', 'Domain', 'Simulator', 'Ussd']));
    expect(never.size).toBeGreaterThan(0);
    expect(importsOf("import type { A } from '../db/x.ts';\nconst m = await import('./y.ts');")).toEqual([
      { spec: '../db/x.ts', line: 1 },
      { spec: './y.ts', line: 2 },
    ]);
  });

  it('no import the map forbids', () => {
    const found: string[] = [];
    for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'flows'))]) {
      const from = partOf(file);
      if (!from) continue;
      for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
        const to = partOf(resolve(dirname(file), spec));
        const why = to && to !== from ? never.get(`${from} → ${to}`) : undefined;
        if (why) found.push(`${relative(ROOT, file)}:${line} imports ${spec} (${from} → ${to}: ${why})`);
      }
    }
    expect(found).toEqual([]);
  });
});
