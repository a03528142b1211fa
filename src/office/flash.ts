import type { Request } from 'express';

/** The outcome a redirect after a form carries in `?ok=` or `?error=`, shown once on the page (escaped like any value). */
export function flashOf(req: Request): { kind: 'ok' | 'error'; text: string } | undefined {
  const { ok, error } = req.query;
  if (typeof error === 'string') return { kind: 'error', text: error.slice(0, 300) };
  if (typeof ok === 'string') return { kind: 'ok', text: ok.slice(0, 300) };
  return undefined;
}
