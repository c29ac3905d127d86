/**
 * Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: fd 3
 * in, fd 4 out, messages ended by a NUL byte), so no WebSocket client and no dependency is needed.
 * Enough of the protocol for the portal's end-to-end tests: a page, navigation, typing, clicks,
 * keys, dialogs, evaluation, screenshots, and the console errors a page logged (CSP refusals).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium binary that runs here, or why there is none. */
export function findChromium(): { bin: string } | { missing: string } {
  for (const bin of CANDIDATES) {
    if (existsSync(bin) && spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 }).status === 0) return { bin };
  }
  return { missing: `chromium is not installed here (looked for ${CANDIDATES.join(', ')}): apt-get install chromium` };
}

let AXE_SOURCE: string | undefined;

type Message = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

export class Chromium {
  readonly #proc: ChildProcess;
  readonly #in: Writable;
  readonly #profile: string;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Set<(m: Message) => void>();
  /** Console errors and log entries of level error (a CSP refusal shows here). */
  readonly errors: string[] = [];
  sessionId = '';

  private constructor(bin: string) {
    this.#profile = mkdtempSync(join(tmpdir(), 'licit-portal-chromium-'));
    this.#proc = spawn(
      bin,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--remote-debugging-pipe', `--user-data-dir=${this.#profile}`, 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    this.#in = this.#proc.stdio[3] as Writable;
    let buf = '';
    (this.#proc.stdio[4] as Readable).on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      for (let i = buf.indexOf('\0'); i >= 0; i = buf.indexOf('\0')) {
        const msg = JSON.parse(buf.slice(0, i)) as Message;
        buf = buf.slice(i + 1);
        this.#dispatch(msg);
      }
    });
    this.#proc.stderr?.resume();
  }

  #dispatch(msg: Message): void {
    if (msg.id !== undefined) {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result ?? {});
      return;
    }
    if (msg.method === 'Runtime.consoleAPICalled' && (msg.params as { type: string }).type === 'error') this.errors.push(JSON.stringify(msg.params));
    if (msg.method === 'Log.entryAdded') {
      const e = (msg.params as { entry: { level: string; text: string } }).entry;
      if (e.level === 'error') this.errors.push(e.text);
    }
    if (msg.method === 'Runtime.exceptionThrown') this.errors.push(JSON.stringify(msg.params));
    for (const l of this.#listeners) l(msg);
  }

  /** Start Chromium and open one page. */
  static async launch(bin: string): Promise<Chromium> {
    const c = new Chromium(bin);
    const { targetId } = (await c.send('Target.createTarget', { url: 'about:blank' }, false)) as { targetId: string };
    c.sessionId = ((await c.send('Target.attachToTarget', { targetId, flatten: true }, false)) as { sessionId: string }).sessionId;
    for (const domain of ['Page', 'Runtime', 'Log']) await c.send(`${domain}.enable`);
    // Confirm dialogs (data-confirm forms) are accepted, as a person clicking OK would.
    c.#listeners.add((m) => {
      if (m.method === 'Page.javascriptDialogOpening') void c.send('Page.handleJavaScriptDialog', { accept: true });
    });
    return c;
  }

  /** One protocol call, on the page's session unless `onPage` is false. */
  send(method: string, params: Record<string, unknown> = {}, onPage = true): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const msg: Message & { params: Record<string, unknown> } = { id, method, params, ...(onPage ? { sessionId: this.sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#in.write(`${JSON.stringify(msg)}\0`);
    });
  }

  /** Resolves at the next event `method` (on the page). */
  next(method: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#listeners.delete(l);
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      const l = (m: Message) => {
        if (m.method !== method) return;
        clearTimeout(t);
        this.#listeners.delete(l);
        resolve(m.params ?? {});
      };
      this.#listeners.add(l);
    });
  }

  /** Open a URL and wait for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = this.next('Page.loadEventFired');
    await this.send('Page.navigate', { url });
    await loaded;
  }

  /** Evaluate an expression in the page; its value. */
  async eval<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as { result: { value: T }; exceptionDetails?: unknown };
    if (r.exceptionDetails !== undefined) throw new Error(`page threw: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value;
  }

  /** Focus the element and type text as a keyboard would. */
  async type(selector: string, text: string): Promise<void> {
    const ok = await this.eval<boolean>(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return false; e.focus(); return document.activeElement === e; })()`);
    if (!ok) throw new Error(`cannot focus ${selector}`);
    await this.send('Input.insertText', { text });
  }

  /** Click the middle of the element with the mouse; waits for the page it loads when `navigates`. */
  async click(selector: string, navigates = true): Promise<void> {
    const box = await this.eval<{ x: number; y: number } | null>(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null; e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
    if (box === null) throw new Error(`no element ${selector}`);
    const loaded = navigates ? this.next('Page.loadEventFired') : undefined;
    for (const type of ['mousePressed', 'mouseReleased']) await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    await loaded;
  }

  /** Press a key (Tab, Enter) as a keyboard would. */
  async press(key: 'Tab' | 'Enter'): Promise<void> {
    const code = key === 'Tab' ? 9 : 13;
    await this.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key, code: key, windowsVirtualKeyCode: code, ...(key === 'Enter' ? { text: '\r' } : {}) });
    if (key === 'Enter') await this.send('Input.dispatchKeyEvent', { type: 'char', key, text: '\r' });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code: key, windowsVirtualKeyCode: code });
  }

  /**
   * Controls of the page's accessibility tree (what a screen reader is given) that have no name:
   * a button, link, text box, search box, spin button, combo box or check box nobody could tell apart.
   */
  async unnamedControls(): Promise<string[]> {
    const { nodes } = (await this.send('Accessibility.getFullAXTree')) as { nodes: { ignored?: boolean; role?: { value?: string }; name?: { value?: string } }[] };
    const controls = new Set(['button', 'link', 'textbox', 'searchbox', 'spinbutton', 'combobox', 'checkbox', 'radio']);
    return nodes.filter((n) => n.ignored !== true && controls.has(n.role?.value ?? '') && (n.name?.value ?? '').trim() === '').map((n) => n.role?.value ?? '?');
  }

  /**
   * Text whose contrast with the background it is drawn on is below `min` (WCAG 2: 4.5 for body
   * text), as `selector: ratio` strings. The background is the nearest ancestor's opaque one.
   */
  async lowContrast(min = 4.5): Promise<string[]> {
    return this.eval<string[]>(`(() => {
      const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
      const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3); } return [255, 255, 255]; };
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        if (!el.childNodes.length || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        const a = lum(rgb(getComputedStyle(el).color).slice(0, 3));
        const b = lum(bg(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < ${min}) out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') + ': ' + ratio.toFixed(2));
      }
      return out;
    })()`);
  }

  /**
   * axe-core's rules (WCAG 2.x A and AA and its best practices) run on the page as it is: the
   * script is evaluated through the protocol (outside the page's Content-Security-Policy, which
   * forbids it as an inline script), then `axe.run`. The violations of impact in `impacts`, as
   * `rule (impact): target, …` strings.
   */
  async axe(impacts: readonly string[] = ['serious', 'critical']): Promise<string[]> {
    AXE_SOURCE ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    if (!(await this.eval<boolean>('typeof window.axe === "object"'))) await this.eval<unknown>(`${AXE_SOURCE};undefined`);
    return this.eval<string[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
      .filter((v) => ${JSON.stringify(impacts)}.includes(v.impact))
      .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`);
  }

  /** A PNG of the page as shown. */
  async screenshot(): Promise<Buffer> {
    const r = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true })) as { data: string };
    return Buffer.from(r.data, 'base64');
  }

  /** Close the browser (asked first, so its helper processes end too; killed after 5 s) and remove its profile. */
  async close(): Promise<void> {
    const exited = new Promise((r) => (this.#proc.exitCode !== null ? r(undefined) : this.#proc.once('exit', r)));
    await Promise.race([this.send('Browser.close', {}, false).catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    const killer = setTimeout(() => this.#proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    try {
      rmSync(this.#profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch {
      // A helper process may still be writing the profile: it is a temporary directory.
    }
  }
}
