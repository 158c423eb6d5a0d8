import { elementById } from './elementById';

/**
 * Asks before a recall: a modal dialog (the browser's own `<dialog>`, so
 * focus stays in it and Escape closes it) that resolves true only when
 * "Recall from every chat" is pressed.
 */
export function confirmRecall(): Promise<boolean> {
  const dialog = elementById('recall-dialog', HTMLDialogElement);
  const confirm = elementById('recall-confirm', HTMLButtonElement);
  const keep = elementById('recall-keep', HTMLButtonElement);
  return new Promise((resolve) => {
    const done = (recall: boolean): void => {
      confirm.removeEventListener('click', onConfirm);
      keep.removeEventListener('click', onKeep);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(recall);
    };
    const onConfirm = (): void => done(true);
    const onKeep = (): void => done(false);
    const onClose = (): void => done(false);
    confirm.addEventListener('click', onConfirm);
    keep.addEventListener('click', onKeep);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    // The safe choice has the focus.
    keep.focus();
  });
}
