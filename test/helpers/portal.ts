/** A browser for the portal tests, by hand: a cookie jar, fetch without following redirects, the CSRF token of a page. */
import { expect } from 'vitest';

export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<{ res: Response; body: string }> {
    const headers: Record<string, string> = { ...this.headers, ...(init.headers ?? {}) };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(this.base + path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, i);
      const value = (pair as string).slice(i + 1);
      if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { res, body: await res.text() };
  }

  get(path: string) {
    return this.request(path);
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request(path, { form, headers });
  }

  /** The CSRF token of the page at `path` (the first form's). */
  async csrf(path = '/portal/licenses'): Promise<string> {
    const { body } = await this.get(path);
    const m = /name="csrf" value="([^"]+)"/.exec(body);
    expect(m, `no form token on ${path}: ${body.slice(0, 400)}`).not.toBeNull();
    return (m as RegExpExecArray)[1] as string;
  }

  /** Sign in to a company (or as the vendor with `token`); returns the redirect answer. */
  async signIn(who: { company: string; email: string; password: string } | { token: string }): Promise<Response> {
    const vendor = 'token' in who;
    const csrf = await this.csrf(vendor ? '/portal/vendor/sign-in' : '/portal/sign-in');
    const { res, body } = await this.post(vendor ? '/portal/vendor/sign-in' : '/portal/sign-in', { csrf, ...who });
    return new Response(res.status === 303 ? null : body, { status: res.status, headers: res.headers });
  }
}

/** The initial password a flash message shows once. */
export function shownSecret(body: string): string {
  const m = /<code class="secret">([^<]+)<\/code>/.exec(body);
  expect(m, 'no initial password on the page').not.toBeNull();
  return (m as RegExpExecArray)[1] as string;
}
