/**
 * `licit settings`: a license's alert settings (thresholds and automatic top-ups per seat type and
 * for credits, notification recipients): show them, or change them from JSON, on a local store or
 * a license server's admin API (`GET`/`POST /v1/admin/settings`). Both targets check a change with
 * the one validator and audit it as `settings.changed`. A license server acts on them; a local
 * store only keeps them (the server reading that store acts at the license's next change).
 */
import { LicenseError } from '../../cli-internals.js';
import { readSettings, saveSettings, settingsJson, type StoredSettings } from '../../admin.js';
import { openTarget, TARGET_FLAGS, type Target } from '../admin-target.js';
import { parseFlags, type Verb } from '../context.js';
import { readTextFile } from '../files.js';

const USAGE =
  'licit settings show | set (--json-settings JSON | --file FILE)\n' +
  '       (--store DIR|postgres://... --license KEY --public-key FILE [--schema NAME] [--actor NAME])\n' +
  '       | (--server URL --license-id ID [--admin-token TOKEN, else $LICIT_ADMIN_TOKEN])   [--json]\n' +
  'The JSON is {"seats": {"TYPE": {"notify": {"remainingAtMost": N} | {"usedPercentAtLeast": P}}}, "credits": {"notify": …, "topUp": {"remainingAtMost": N, "add": M}}, "recipients": [{"email": …, "kinds": ["alerts", "top-ups", "top-up-failures"]}]}; ' +
  'each part given replaces that part. Exit 0 done, 1 a refusal (ERR_SETTINGS_INVALID names the field), 2 a usage mistake.';

type View = Record<string, unknown> & { licenseId: string; revision: number; settings: Record<string, unknown> };

function view(licenseId: string, s: StoredSettings | undefined): View {
  return { licenseId, revision: s?.revision ?? 0, updatedAt: s?.updatedAt ?? null, updatedBy: s?.updatedBy ?? null, settings: s === undefined ? { seats: {}, recipients: [] } : settingsJson(s.settings) };
}

async function show(t: Target): Promise<View> {
  if (t.kind === 'server') return (await t.get('settings')) as View;
  return view(t.license.id, await readSettings(t.store, t.license.id));
}

async function set(t: Target, change: Record<string, unknown>): Promise<View & { changed: string[] }> {
  if (t.kind === 'server') return (await t.post('settings', change)) as View & { changed: string[] };
  // What the license offers settings for, as the server decides it (loaded only for a local store).
  const { settingsScope } = await import('../../server/index.js');
  const r = await saveSettings(t.store, t.license.id, change, settingsScope(t.license), { actor: t.actor, now: Date.now() });
  return { ...view(t.license.id, r.revision === 0 ? undefined : r), changed: r.changed };
}

/** The settings as lines a person reads. */
function text(v: View): string {
  type Figure = { notify?: { remainingAtMost?: number; usedPercentAtLeast?: number }; topUp?: { remainingAtMost: number; add: number } };
  const figure = (name: string, left: string, f: Figure) => {
    const n = f.notify === undefined ? 'no notification' : f.notify.remainingAtMost !== undefined ? `notify when ${left} <= ${f.notify.remainingAtMost}` : `notify when used >= ${f.notify.usedPercentAtLeast}%`;
    const t = f.topUp === undefined ? 'no automatic top-up' : `add ${f.topUp.add} when ${left} <= ${f.topUp.remainingAtMost}`;
    return `${name}\t${n}; ${t}`;
  };
  const s = v.settings as { seats?: Record<string, Figure>; credits?: Figure; recipients?: { email: string; kinds: string[] }[] };
  const lines = [`License ${v.licenseId}: alert settings revision ${v.revision}${v.updatedBy === null ? ' (never set)' : ` (changed ${String(v.updatedAt)} by ${String(v.updatedBy)})`}`];
  if (s.credits !== undefined) lines.push(figure('credits', 'credits left', s.credits));
  for (const [type, f] of Object.entries(s.seats ?? {})) lines.push(figure(`seats ${type}`, 'vacant seats', f));
  for (const r of s.recipients ?? []) lines.push(`notify\t${r.email}: ${r.kinds.length === 0 ? 'nothing' : r.kinds.join(', ')}`);
  if (lines.length === 1) lines.push('No thresholds, top-ups or recipients.');
  return lines.join('\n');
}

/** `licit settings`: show, set. */
export const run: Verb = async (argv, ctx) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(argv, { ...TARGET_FLAGS, 'json-settings': s, file: s }, USAGE);
  const [action, ...rest] = positionals;
  if (action !== 'show' && action !== 'set') throw new LicenseError('ERR_USAGE', `${action === undefined ? 'missing action' : `unknown action "${action}"`} (show or set)\nUsage: ${USAGE}`);
  if (rest.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${rest[0]}"\nUsage: ${USAGE}`);
  let change: Record<string, unknown> | undefined;
  if (action === 'set') {
    if ((v['json-settings'] === undefined) === (v.file === undefined)) throw new LicenseError('ERR_USAGE', `"set" takes the settings as --json-settings JSON or --file FILE (one of them)\nUsage: ${USAGE}`);
    const raw = v['json-settings'] ?? readTextFile(v.file as string, '--file');
    try {
      change = JSON.parse(raw) as Record<string, unknown>;
    } catch (e) {
      throw new LicenseError('ERR_USAGE', `the settings are not JSON (${(e as Error).message})\nUsage: ${USAGE}`);
    }
    if (change === null || typeof change !== 'object' || Array.isArray(change)) throw new LicenseError('ERR_USAGE', `the settings must be a JSON object\nUsage: ${USAGE}`);
  } else if (v['json-settings'] !== undefined || v.file !== undefined) throw new LicenseError('ERR_USAGE', `--json-settings and --file go with "set"\nUsage: ${USAGE}`);
  const target = await openTarget(v, action, new Set(['show', 'set']), ctx, USAGE, 'settings');
  try {
    if (change === undefined) {
      const r = await show(target);
      return { data: r, text: text(r) };
    }
    const r = await set(target, change);
    return { data: r, text: `${r.changed.length === 0 ? 'Nothing changed.' : `Changed: ${r.changed.join(', ')}.`}\n${text(r)}` };
  } finally {
    await target.close();
  }
};
