import 'adaptivecards/lib/adaptivecards.css';
import './console.css';
import { AudienceView, type AudienceState } from './audienceView';
import { ComposeForm, type Composition } from './composeForm';
import { elementById, showProblems } from './elementById';
import { takeFunctionKey } from './functionKey';
import { HistoryView } from './historyView';
import { ApiError, NotificationApi } from './notificationApi';
import { StatusView } from './statusView';

/**
 * The notification console: compose → audience preview → send → watch, and
 * the history. Served by functions/console.ts at /api/console; the API is
 * the app's own, one folder up (`<base href>` is the console's folder).
 * web/ is bundled for the browser: from shared/ it imports types, and values
 * only from files without Node imports (shared/notifications/messageActivity.ts).
 */

function start(): void {
  const functionKey = takeFunctionKey(window.location, window.history, window.sessionStorage);
  const api = new NotificationApi(new URL('../', document.baseURI), functionKey);
  const maxMessageBytes = Number(document.querySelector('meta[name="notify-max-message-bytes"]')?.getAttribute('content'));
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) throw new Error('the page does not say the message size limit');

  const compose = new ComposeForm(maxMessageBytes, api);
  const sendButton = elementById('send', HTMLButtonElement);
  const formProblems = elementById('form-problems', HTMLElement);
  const history = new HistoryView(api, (id) => status.open(id));
  const status = new StatusView(api, maxMessageBytes, () => void history.refresh());

  let composition: Composition = compose.read();
  let audience: AudienceState = { kind: 'unknown' };
  let sending = false;

  const sendLabel = (): string => (compose.scheduling ? 'Schedule' : 'Send');
  const refreshSendButton = (): void => {
    if (!sending) sendButton.textContent = sendLabel();
    const problems = [...(composition.ok ? [] : composition.problems), ...(audience.kind === 'refused' ? audience.problems : [])];
    showProblems(formProblems, problems);
    sendButton.disabled = sending || !composition.ok || audience.kind === 'refused';
  };
  const audienceView = new AudienceView(
    api,
    (state) => {
      audience = state;
      refreshSendButton();
    },
    (teamId) => compose.audience.teamName(teamId),
  );

  compose.onChange((next) => {
    composition = next;
    audienceView.update(next.ok ? next.body : undefined);
    refreshSendButton();
  });

  compose.form.addEventListener('submit', (event) => {
    event.preventDefault();
    // Read again: a time that was ahead when it was chosen may have passed since.
    composition = compose.read();
    refreshSendButton();
    if (!composition.ok || sending) return;
    const { body, sendAt } = composition;
    sending = true;
    sendButton.textContent = sendAt === undefined ? 'Sending…' : 'Scheduling…';
    refreshSendButton();
    api
      .send(sendAt === undefined ? body : { ...body, sendAt })
      .then((accepted) => {
        status.open(accepted.id);
        void history.refresh();
      })
      .catch((error: unknown) => {
        showProblems(formProblems, error instanceof ApiError ? [...error.problems] : [`Could not send: ${String(error)}`]);
      })
      .finally(() => {
        sending = false;
        sendButton.textContent = sendLabel();
        sendButton.disabled = !composition.ok || audience.kind === 'refused';
      });
  });

  audienceView.update(composition.ok ? composition.body : undefined);
  refreshSendButton();
  void history.refresh();
}

start();
