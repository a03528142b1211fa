import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Milliseconds of samples, idle excluded. */
  busyMs: number;
  idleMs: number;
  top: { where: string; selfMs: number; share: number }[];
  /** Self time by area: src/, flows/, each package under node_modules, node internals, GC. */
  areas: { area: string; selfMs: number; share: number }[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function shortUrl(url: string): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  return path.replace(/^.*node_modules\//, 'node_modules/');
}

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  return url.split('/')[0] ?? url;
}

/** Self time per function (file:function:line) over one or more `.cpuprofile` files. */
export function summarizeProfiles(files: string[], limit = 10): ProfileSummary {
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!frame) return;
      if (frame.functionName === '(idle)') {
        idle += us;
        return;
      }
      busy += us;
      const url = shortUrl(frame.url);
      const name = frame.functionName || '(anonymous)';
      // Lines of .ts files are those of tsx's output, not of the source: leave them out.
      const where = !url ? name : url.endsWith('.ts') ? `${url}:${name}` : `${url}:${name}:${frame.lineNumber + 1}`;
      self.set(where, (self.get(where) ?? 0) + us);
      const area = areaOf(url, name);
      areas.set(area, (areas.get(area) ?? 0) + us);
    });
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ k, selfMs: us / 1000, share: busy ? us / busy : 0 }));
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    top: rank(self)
      .slice(0, limit)
      .map(({ k, ...r }) => ({ where: k, ...r })),
    areas: rank(areas)
      .slice(0, limit)
      .map(({ k, ...r }) => ({ area: k, ...r })),
  };
}
