type Env = Readonly<Record<string, string | undefined>>;

export class SettingReferenceError extends Error {
  constructor(readonly setting: string, text: string) {
    super(`"${text}" refers to app setting ${setting}, which is not set`);
    this.name = 'SettingReferenceError';
  }
}

/** Replaces `%NAME%` with the app setting NAME, as the host does for binding properties. */
export function resolveSettingReferences(text: string, env: Env): string {
  return text.replace(/%([^%]+)%/g, (_reference, name: string) => {
    const value = env[name];
    if (value === undefined) throw new SettingReferenceError(name, text);
    return value;
  });
}
