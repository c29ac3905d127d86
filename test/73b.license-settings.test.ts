/**
 * A license's alert settings: the one validator refuses every value that cannot work with
 * ERR_SETTINGS_INVALID naming the field and what to do; saving over a real store writes one
 * record and one chained `settings.changed` event, nothing for a change that changes nothing; the
 * rules they make keep their ids while a part is unchanged and get new ones when it changes (so a
 * top-up's idempotency key never repeats an earlier setting's).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { checkSettings, readSettings, readVerifiedLog, saveSettings, settingsRules, recipientsFor, withAuditChain, type SettingsScope } from '../src/core/admin/index.js';

const scope: SettingsScope = { seatTypes: ['basic', 'pro'], credits: true, seatTopUps: false };

describe('checkSettings', () => {
  it('accepts thresholds per seat type and for credits, a credit top-up, recipients with their kinds', () => {
    const s = checkSettings(
      {
        seats: { basic: { notify: { remainingAtMost: 2 } }, pro: { notify: { usedPercentAtLeast: 90 } } },
        credits: { notify: { remainingAtMost: 300 }, topUp: { remainingAtMost: 100, add: 500 } },
        recipients: [
          { email: ' It@ACME.Example ', kinds: ['top-ups', 'alerts', 'alerts'] },
          { email: 'cfo@acme.example', kinds: [] },
        ],
      },
      scope,
    );
    expect(s.recipients).toEqual([
      { email: 'It@acme.example', kinds: ['alerts', 'top-ups'] },
      { email: 'cfo@acme.example', kinds: [] },
    ]);
    expect(recipientsFor(s, 'alerts')).toEqual(['It@acme.example']);
    const { rules, purposes } = settingsRules(s, { 'credits.topUp': 4 });
    expect(rules).toEqual([
      { id: 'credits.notify.r0', metric: 'credits', remainingAtMost: 300 },
      { id: 'credits.topUp.r4', metric: 'credits', remainingAtMost: 100, hysteresis: 0, topUp: { credits: 500 } },
      { id: 'seats.basic.notify.r0', metric: 'seats', type: 'basic', remainingAtMost: 2 },
      { id: 'seats.pro.notify.r0', metric: 'seats', type: 'pro', usedPercentAtLeast: 90 },
    ]);
    expect(purposes.get('credits.topUp.r4')).toEqual({ purpose: 'topUp', figure: 'credits' });
    // Empty parts are no settings at all.
    expect(checkSettings({ seats: { basic: {} }, credits: null }, scope)).toEqual({ seats: {}, recipients: [] });
  });

  it('refuses every value that cannot work, naming the field and what to do', () => {
    const bad: [unknown, string, RegExp][] = [
      [{ seats: { gold: { notify: { remainingAtMost: 1 } } } }, 'seats.gold', /no seats of type "gold"; its types are basic, pro/],
      [{ seats: { basic: { notify: { remainingAtMost: -1 } } } }, 'seats.basic.notify', /whole number of vacant seats/],
      [{ seats: { basic: { notify: { remainingAtMost: 1.5 } } } }, 'seats.basic.notify', /whole number/],
      [{ seats: { basic: { notify: { usedPercentAtLeast: 0 } } } }, 'seats.basic.notify', /percentage above 0 and at most 100/],
      [{ seats: { basic: { notify: { usedPercentAtLeast: 101 } } } }, 'seats.basic.notify', /percentage/],
      [{ seats: { basic: { notify: { usedPercentAtLeast: 80, remainingAtMost: 2 } } } }, 'seats.basic.notify', /exactly one of remainingAtMost .* and usedPercentAtLeast/],
      [{ seats: { basic: { notify: {} } } }, 'seats.basic.notify', /exactly one/],
      [{ seats: { basic: { notify: { percent: 80 } } } }, 'seats.basic.notify', /unknown field "percent"/],
      [{ seats: { basic: { topUp: { remainingAtMost: 1, add: 5 } } } }, 'seats.basic.topUp', /automatic top-ups of seats are not available on this server yet/],
      [{ credits: { topUp: { remainingAtMost: 100, add: 100 } } }, 'credits.topUp.add', /add more than 100, or lower the threshold/],
      [{ credits: { topUp: { remainingAtMost: 100, add: 0 } } }, 'credits.topUp.add', /from 1 to 4294967295/],
      [{ credits: { topUp: { add: 5 } } }, 'credits.topUp.remainingAtMost', /credits left at or below which to add/],
      [{ recipients: [{ email: 'not-an-address', kinds: ['alerts'] }] }, 'recipients[0].email', /is not an e-mail address; give one like it@example.com/],
      [{ recipients: [{ email: 'a@b.example', kinds: ['sms'] }] }, 'recipients[0].kinds', /cannot receive "sms"; the kinds are alerts, top-ups, top-up-failures/],
      [{ recipients: [{ email: 'a@b.example', kinds: [] }, { email: 'A@B.example', kinds: [] }] }, 'recipients[1].email', /on the list twice/],
      [{ recipients: Array.from({ length: 51 }, (_, i) => ({ email: `u${i}@b.example`, kinds: [] })) }, 'recipients', /at most 50/],
      [{ thresholds: {} }, 'thresholds', /unknown field "thresholds"/],
      ['x', 'settings', /must be an object/],
    ];
    for (const [input, field, message] of bad) {
      let err: unknown;
      try {
        checkSettings(input, scope);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(input).slice(0, 80)).toMatchObject({ code: 'ERR_SETTINGS_INVALID', details: { field } });
      expect((err as Error).message).toMatch(message);
    }
    expect(() => checkSettings({ credits: { notify: { remainingAtMost: 5 } } }, { ...scope, credits: false })).toThrow(/sells no credits/);
    // With the server able to add seats, a seat top-up is a setting like any other.
    expect(checkSettings({ seats: { basic: { topUp: { remainingAtMost: 1, add: 5 } } } }, { ...scope, seatTopUps: true }).seats.basic?.topUp).toEqual({ remainingAtMost: 1, add: 5 });
  });
});

describe('saveSettings over a store', () => {
  it('one record, one chained settings.changed per real change; rule ids change only with their part', async () => {
    const store = withAuditChain(new MemoryStore());
    const by = (now: number) => ({ actor: 'portal:ACME:it@acme.example', now });
    const a = await saveSettings(store, 'L', { credits: { notify: { remainingAtMost: 300 }, topUp: { remainingAtMost: 100, add: 500 } } }, scope, by(1000));
    expect([a.revision, a.changed]).toEqual([1, ['credits.notify', 'credits.topUp']]);
    // Recipients only: the thresholds stay, with their stamps.
    const b = await saveSettings(store, 'L', { recipients: [{ email: 'it@acme.example', kinds: ['alerts'] }] }, scope, by(2000));
    expect([b.revision, b.changed, b.stamps]).toEqual([2, ['recipients'], { 'credits.notify': 1, 'credits.topUp': 1 }]);
    // The same again changes nothing and writes nothing.
    const same = await saveSettings(store, 'L', { recipients: [{ email: 'it@acme.example', kinds: ['alerts'] }] }, scope, by(3000));
    expect([same.revision, same.changed]).toEqual([2, []]);
    // A new top-up amount: a new top-up rule id, the notification rule keeps its own.
    const c = await saveSettings(store, 'L', { credits: { notify: { remainingAtMost: 300 }, topUp: { remainingAtMost: 100, add: 800 } } }, scope, by(4000));
    expect([c.revision, c.changed, c.stamps]).toEqual([3, ['credits.topUp'], { 'credits.notify': 1, 'credits.topUp': 3 }]);
    expect(settingsRules(c.settings, c.stamps).rules.map((r) => r.id)).toEqual(['credits.notify.r1', 'credits.topUp.r3']);
    // A refused change writes nothing.
    await expect(saveSettings(store, 'L', { credits: { topUp: { remainingAtMost: 100, add: 50 } } }, scope, by(5000))).rejects.toMatchObject({ code: 'ERR_SETTINGS_INVALID' });
    const stored = await readSettings(store, 'L');
    expect(stored).toMatchObject({ revision: 3, updatedBy: 'portal:ACME:it@acme.example', updatedAt: new Date(4000).toISOString() });
    const log = await readVerifiedLog(store, 'L');
    const changes = log.events.filter((e) => e.kind === 'settings.changed');
    expect(changes.map((e) => [e.actor, e.details.revision, e.details.changed])).toEqual([
      ['portal:ACME:it@acme.example', 1, ['credits.notify', 'credits.topUp']],
      ['portal:ACME:it@acme.example', 2, ['recipients']],
      ['portal:ACME:it@acme.example', 3, ['credits.topUp']],
    ]);
    expect(changes[2]?.details.settings).toMatchObject({ credits: { topUp: { add: 800 } }, recipients: [{ email: 'it@acme.example', kinds: ['alerts'] }] });
  });
});
