import type { Language } from '../i18n/catalog.ts';
import type { Db } from './connection.ts';

export type ReminderChannel = 'sms' | 'voice';

/** What a phone chose: its language (for callers not yet registered) and a household's reminder setting and channel. */
export function createPreferenceStore(db: Db) {
  const callerLanguage = db.prepare('SELECT language FROM caller_preferences WHERE phone = ?').pluck();
  const upsertCallerLanguage = db.prepare(
    `INSERT INTO caller_preferences (phone, language, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (phone) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at`,
  );
  const reminders = db.prepare('SELECT enabled FROM reminder_preferences WHERE household_id = ?').pluck();
  const upsertReminders = db.prepare(
    `INSERT INTO reminder_preferences (household_id, enabled, updated_at, updated_via) VALUES (?, ?, ?, ?)
     ON CONFLICT (household_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at,
       updated_via = excluded.updated_via`,
  );
  const channel = db.prepare('SELECT channel FROM reminder_preferences WHERE household_id = ?').pluck();
  // A household with no row yet has reminders on: the row made here keeps them on.
  const upsertChannel = db.prepare(
    `INSERT INTO reminder_preferences (household_id, enabled, channel, updated_at, updated_via) VALUES (?, 1, ?, ?, ?)
     ON CONFLICT (household_id) DO UPDATE SET channel = excluded.channel, updated_at = excluded.updated_at,
       updated_via = excluded.updated_via`,
  );

  return {
    callerLanguage(phone: string): Language | undefined {
      return callerLanguage.get(phone) as Language | undefined;
    },
    setCallerLanguage(phone: string, language: Language, now: Date): void {
      upsertCallerLanguage.run(phone, language, now.toISOString());
    },
    /** Reminders are on until the member turns them off. */
    remindersEnabled(householdId: number): boolean {
      const v = reminders.get(householdId) as number | undefined;
      return v === undefined ? true : v === 1;
    },
    setReminders(householdId: number, enabled: boolean, via: 'ussd' | 'sms' | 'office', now: Date): void {
      upsertReminders.run(householdId, enabled ? 1 : 0, now.toISOString(), via);
    },
    /** Reminders come by SMS until the household asks for calls (for members who cannot read). */
    reminderChannel(householdId: number): ReminderChannel {
      return (channel.get(householdId) as ReminderChannel | undefined) ?? 'sms';
    },
    setReminderChannel(householdId: number, value: ReminderChannel, via: 'ussd' | 'office', now: Date): void {
      upsertChannel.run(householdId, value, now.toISOString(), via);
    },
  };
}

export type PreferenceStore = ReturnType<typeof createPreferenceStore>;
