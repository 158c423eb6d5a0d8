/** A missing or malformed app setting; the message names the setting and never repeats a secret value. */
export class SettingsError extends Error {
  constructor(readonly setting: string, problem: string) {
    super(`App setting ${setting} ${problem}`);
    this.name = 'SettingsError';
  }
}
