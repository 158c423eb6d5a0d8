/**
 * What an acknowledge press names, as the notification's status row tells (one point read): the
 * button's data is whatever the client sent, so a press is recorded only for a notification that
 * exists, asked for acknowledgements and was not recalled.
 *
 * - `open`: record the press; `ownCard` is the card it was sent with, shown again once acknowledged.
 * - `unknown`: no such notification (a made-up id, one removed by retention, or one sent by
 *   `/api/notify`, which keeps no status row).
 * - `notAsked`: it exists but did not ask for acknowledgements.
 * - `recalled`: its sender took it back; a press no longer counts.
 */
export type AcknowledgeTarget =
  | { readonly kind: 'open'; readonly ownCard?: Record<string, unknown> }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'notAsked' }
  | { readonly kind: 'recalled' };
