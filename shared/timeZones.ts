/** Time zones as this runtime knows them (Intl, with the IANA database Node ships). */

/** The IANA name for `name` as Intl writes it (`europe/berlin` is Europe/Berlin), or undefined for a zone it does not know. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The time zone of this machine (what a schedule is read in when no zone is set: UTC in Azure). */
export function machineTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}
