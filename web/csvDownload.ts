import type { NotificationApi } from './notificationApi';

/**
 * Saves a notification's recipients as a CSV file. The file is fetched with
 * the function key in its header (a plain link could not carry it, and the
 * key must not go into a URL), then handed to the browser as a download.
 */
export async function downloadRecipientsCsv(api: NotificationApi, id: string): Promise<void> {
  const file = await api.recipientsCsv(id);
  const url = URL.createObjectURL(file);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = `${id}-recipients.csv`;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // After the click has started the download.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
