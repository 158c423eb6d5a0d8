/**
 * The function key the page was opened with (`/api/console?code=...` in Azure).
 * It is kept in sessionStorage (gone when the tab closes), removed from the
 * address bar so it is not bookmarked, shared or sent as a Referer, and only
 * ever sent as the `x-functions-key` header. Never logged.
 */

const storageKey = 'notificationConsole.functionKey';

/** Moves `?code=` from the address bar into sessionStorage; returns the key to use, if any. */
export function takeFunctionKey(location: Location, history: History, storage: Storage): string | undefined {
  const url = new URL(location.href);
  const fromAddress = url.searchParams.get('code');
  if (fromAddress !== null) {
    url.searchParams.delete('code');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    if (fromAddress !== '') {
      storage.setItem(storageKey, fromAddress);
      return fromAddress;
    }
  }
  return storage.getItem(storageKey) ?? undefined;
}
