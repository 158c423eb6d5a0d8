import { readPastedAddresses } from '../shared/notifications/pastedAddresses';
import { elementById, formatCount, showProblems } from './elementById';
import type { AudienceSource, NotificationApi, StoredTeam, TeamDelivery } from './notificationApi';

/**
 * "Who receives it" beyond the stored conversations: the teams the bot is in
 * (`GET /api/teams`), each with how it is reached (its channel, every
 * channel, each member personally), people by email (pasted one per line or
 * as a spreadsheet column), and Entra groups by id. Read into the request's
 * `audience` sources; what cannot be sent is a problem beside its field.
 */

export interface AudienceChoice {
  readonly sources: readonly AudienceSource[];
  readonly problems: readonly string[];
}

const deliveries: readonly (readonly [TeamDelivery | '', string])[] = [
  ['', 'Not included'],
  ['channel', 'Its channel'],
  ['allChannels', 'Every channel'],
  ['members', 'Each member personally'],
];

/** With more teams than this, a search box narrows the list (chosen teams always stay in view). */
const teamsWithoutFilter = 8;

/** Entra object ids (groups, tenants) are GUIDs. */
const guidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export class AudiencePicker {
  private readonly teamList = elementById('team-list', HTMLElement);
  private readonly teamsNote = elementById('teams-note', HTMLElement);
  private readonly filterField = elementById('team-filter-field', HTMLElement);
  private readonly filter = elementById('team-filter', HTMLInputElement);
  private readonly filterCount = elementById('team-filter-count', HTMLElement);
  private readonly emails = elementById('audience-emails', HTMLTextAreaElement);
  private readonly emailsRead = elementById('audience-emails-read', HTMLElement);
  private readonly emailsProblems = elementById('audience-emails-problems', HTMLElement);
  private readonly groups = elementById('audience-groups', HTMLTextAreaElement);
  private readonly groupsProblems = elementById('audience-groups-problems', HTMLElement);
  private readonly tenant = elementById('audience-tenant', HTMLInputElement);
  private readonly knownTenants = elementById('known-tenants', HTMLDataListElement);
  private readonly tenantProblems = elementById('audience-tenant-problems', HTMLElement);
  private teams: readonly StoredTeam[] = [];

  constructor(private readonly api: NotificationApi) {
    this.filter.addEventListener('input', () => this.applyFilter());
  }

  /** Lists the stored teams, each with its choice; `changed` runs when they are in place. */
  async loadTeams(changed: () => void): Promise<void> {
    this.teamsNote.textContent = 'Loading the teams…';
    try {
      this.teams = await this.api.teams();
    } catch (error) {
      this.teamsNote.textContent = `Could not list the teams: ${error instanceof Error ? error.message : String(error)}`;
      return;
    }
    this.teamsNote.textContent = this.teams.length === 0 ? 'The bot has not been added to any team yet.' : '';
    const named = new Map<string, number>();
    for (const team of this.teams) named.set(nameOf(team), (named.get(nameOf(team)) ?? 0) + 1);
    this.teamList.replaceChildren(...this.teams.map((team, index) => this.teamRow(team, index, (named.get(nameOf(team)) ?? 0) > 1)));
    this.filterField.hidden = this.teams.length <= teamsWithoutFilter;
    this.knownTenants.replaceChildren(...[...new Set(this.teams.map((team) => team.tenantId))].map((tenantId) => new Option(tenantId, tenantId)));
    changed();
  }

  read(): AudienceChoice {
    const problems: string[] = [];
    const sources: AudienceSource[] = [];
    this.teams.forEach((team, index) => {
      const deliverTo = elementById(`team-${index}`, HTMLSelectElement).value;
      if (deliverTo !== '') sources.push({ team: team.teamId, deliverTo: deliverTo as TeamDelivery });
    });

    const tenantId = this.tenant.value.trim();
    const badTenant = tenantId !== '' && !guidPattern.test(tenantId);
    const tenantProblem = badTenant ? [`A tenant id looks like 72f988bf-86f1-41af-91ab-2d7cd011db47; not: "${tenantId}"`] : [];
    showProblems(this.tenantProblems, tenantProblem);
    this.tenant.setAttribute('aria-invalid', String(badTenant));
    problems.push(...tenantProblem.map((problem) => `Tenant of people and groups: ${problem}`));
    const tenant = tenantId === '' || badTenant ? {} : { tenantId };

    const pasted = readPastedAddresses(this.emails.value);
    this.emailsRead.textContent =
      pasted.read === 0
        ? ''
        : `Read ${formatCount(pasted.read)}: ${formatCount(pasted.addresses.length)} ${pasted.addresses.length === 1 ? 'address' : 'addresses'}` +
          `${pasted.duplicates > 0 ? `, ${formatCount(pasted.duplicates)} repeated` : ''}${pasted.malformed.length > 0 ? `, ${formatCount(pasted.malformed.length)} malformed` : ''}.`;
    const malformed = pasted.malformed.length === 0 ? [] : [`Not email addresses: ${listed(pasted.malformed)}`];
    showProblems(this.emailsProblems, malformed);
    this.emails.setAttribute('aria-invalid', String(malformed.length > 0));
    problems.push(...malformed.map((problem) => `People by email: ${problem}`));
    if (pasted.addresses.length > 0) sources.push({ users: pasted.addresses, ...tenant });

    const groupIds = [...new Set(this.groups.value.split(/[\s,;]+/).filter((id) => id !== ''))];
    const badGroups = groupIds.filter((id) => !guidPattern.test(id));
    const groupProblem = badGroups.length === 0 ? [] : [`A group id looks like 0f8fad5b-d9cb-469f-a165-70867728950e; not: ${listed(badGroups)}`];
    showProblems(this.groupsProblems, groupProblem);
    this.groups.setAttribute('aria-invalid', String(badGroups.length > 0));
    problems.push(...groupProblem.map((problem) => `Groups: ${problem}`));
    for (const group of groupIds.filter((id) => guidPattern.test(id))) sources.push({ group, ...tenant });

    return { sources, problems };
  }

  /** A team's name for people: its name, or its id when Teams never said the name. */
  teamName(teamId: string): string {
    const team = this.teams.find((candidate) => candidate.teamId === teamId);
    return team === undefined ? teamId : nameOf(team);
  }

  /** Shows the teams whose name or tenant holds the search text, and every team already chosen. */
  private applyFilter(): void {
    const wanted = this.filter.value.trim().toLowerCase();
    let shown = 0;
    this.teams.forEach((team, index) => {
      const select = elementById(`team-${index}`, HTMLSelectElement);
      const matches = wanted === '' || `${nameOf(team)} ${team.tenantId}`.toLowerCase().includes(wanted) || select.value !== '';
      const row = select.closest('.team-choice');
      if (row instanceof HTMLElement) row.hidden = !matches;
      if (matches) shown++;
    });
    this.filterCount.textContent = wanted === '' ? '' : `${formatCount(shown)} of ${formatCount(this.teams.length)} teams shown.`;
  }

  private teamRow(team: StoredTeam, index: number, sameNameElsewhere: boolean): HTMLElement {
    const row = document.createElement('div');
    row.className = 'team-choice';
    const label = document.createElement('label');
    label.htmlFor = `team-${index}`;
    label.textContent = nameOf(team);
    const select = document.createElement('select');
    select.id = `team-${index}`;
    select.dataset['teamId'] = team.teamId;
    for (const [value, text] of deliveries) select.add(new Option(text, value));
    row.append(label, select);
    if (sameNameElsewhere || team.teamName === '') {
      // Two teams of one name (in two tenants) are told apart by their tenant.
      const where = document.createElement('span');
      where.className = 'hint';
      where.id = `team-${index}-tenant`;
      where.textContent = `tenant ${team.tenantId}`;
      select.setAttribute('aria-describedby', where.id);
      row.append(where);
    }
    return row;
  }
}

function nameOf(team: StoredTeam): string {
  return team.teamName === '' ? `Team ${team.teamId}` : team.teamName;
}

function listed(values: readonly string[]): string {
  const shown = values.slice(0, 5).map((value) => `"${value}"`).join(', ');
  return values.length > 5 ? `${shown} and ${formatCount(values.length - 5)} more` : shown;
}
