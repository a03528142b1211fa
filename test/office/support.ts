/**
 * A browser's side of the office console over plain HTTP: a cookie jar of one session, the CSRF
 * token read from the page, forms posted as a browser posts them, redirects not followed.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Role } from '../../src/office/staff.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

export const PASSWORD = 'correct horse battery';

export interface Browser {
  cookie: string;
  get(path: string): Promise<{ status: number; body: string; location: string | null }>;
  post(
    path: string,
    form: Record<string, string>,
    opts?: { csrf?: boolean },
  ): Promise<{ status: number; body: string; location: string | null }>;
  /** The token of the forms on `path`. */
  csrf(path?: string): Promise<string>;
}

export async function addStaff(app: TestApp, email: string, role: Role): Promise<void> {
  await app.services.office.staff.add(
    { email, name: email.split('@')[0] as string, role, password: PASSWORD },
    { staffId: null, name: 'test' },
  );
}

export function browser(app: TestApp): Browser {
  const b: Browser = {
    cookie: '',
    async get(path) {
      const res = await fetch(app.url + path, { redirect: 'manual', headers: b.cookie ? { cookie: b.cookie } : {} });
      return { status: res.status, body: await res.text(), location: res.headers.get('location') };
    },
    async post(path, form, opts = {}) {
      const body = new URLSearchParams(form);
      if (opts.csrf !== false && !('_csrf' in form)) body.set('_csrf', await b.csrf());
      const res = await fetch(app.url + path, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(b.cookie ? { cookie: b.cookie } : {}) },
        body: body.toString(),
      });
      const set = res.headers.get('set-cookie');
      if (set) b.cookie = set.split(';')[0] as string;
      return { status: res.status, body: await res.text(), location: res.headers.get('location') };
    },
    async csrf(path = '/admin') {
      const page = await b.get(path);
      const m = /name="_csrf" value="([^"]+)"/.exec(page.body);
      if (!m) throw new Error(`no CSRF token on ${path} (${page.status})`);
      return m[1] as string;
    },
  };
  return b;
}

/** A browser logged in as a new account of that role. */
export async function loggedIn(app: TestApp, email: string, role: Role): Promise<Browser> {
  await addStaff(app, email, role);
  const b = browser(app);
  const res = await b.post('/admin/login', { email, password: PASSWORD }, { csrf: false });
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.body.slice(0, 200)}`);
  return b;
}

/** For each test: a fresh app (demo network, clock at 2026-03-10 09:00) and a browser logged in with that role, handed to `set`. */
export function eachTestLoggedIn(email: string, role: Role, set: (app: TestApp, browser: Browser) => void): void {
  let app: TestApp | undefined;
  beforeEach(async () => {
    app = await startTestApp();
    set(app, await loggedIn(app, email, role));
  });
  afterEach(() => app?.close());
}
