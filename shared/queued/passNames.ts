/**
 * The names of the passes over a notification's delivered chats (ledgerPass.ts): what the status
 * reads them by, and what passActions.ts and remindPass.ts plan them by.
 * - `revision-<n>`: an edit to revision n;
 * - `recall`: the recall;
 * - `remind-<id>`: a reminder.
 */

export const recallPass = 'recall';

export function revisionPass(revision: number): string {
  return `revision-${revision}`;
}

/** The revision an edit's pass is named after, or undefined when the name is not an edit's. */
export function revisionOfPass(pass: string): number | undefined {
  const match = /^revision-(\d+)$/.exec(pass);
  return match === null ? undefined : Number(match[1]);
}

const remindPrefix = 'remind-';

export function remindPass(reminderId: string): string {
  return `${remindPrefix}${reminderId}`;
}

/** The reminder id a pass is named after, or undefined when the name is not a reminder's. */
export function reminderOfPass(pass: string): string | undefined {
  return pass.startsWith(remindPrefix) ? pass.slice(remindPrefix.length) : undefined;
}
