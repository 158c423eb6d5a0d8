/**
 * The data behind the fake Microsoft Graph (scripts/fakeGraph.ts): users, groups with nested groups,
 * the organisation's Teams app catalog and app installations. Plain data, no HTTP.
 */

export interface FakeGraphUser {
  /** The Entra object id. */
  readonly id: string;
  readonly userPrincipalName: string;
  /** The primary email, when the person has a mailbox; a guest's differs from its UPN. */
  readonly mail?: string;
  /** Default Member. */
  readonly userType?: 'Member' | 'Guest';
  readonly displayName?: string;
}

export interface FakeGraphGroup {
  readonly id: string;
  readonly displayName?: string;
  /** Ids of users and of other groups (nested groups count transitively; cycles are allowed). */
  readonly memberIds: readonly string[];
}

export interface FakeCatalogApp {
  /** The catalog's own id (what installing names). */
  readonly id: string;
  /** The manifest id. */
  readonly externalId: string;
  readonly displayName?: string;
  /** Default organization. */
  readonly distributionMethod?: 'organization' | 'store' | 'sideloaded';
}

export interface FakeInstallation {
  readonly userId: string;
  readonly catalogAppId: string;
}

/** What a test loads into the fake; every part optional, added to what is there. */
export interface FakeGraphSeed {
  readonly users?: readonly FakeGraphUser[];
  readonly groups?: readonly FakeGraphGroup[];
  readonly catalog?: readonly FakeCatalogApp[];
  /** The app is already installed for these people (installing again answers 409). */
  readonly installations?: readonly FakeInstallation[];
}

export interface StoredInstallation {
  readonly id: string;
  readonly catalogAppId: string;
  readonly chatId: string;
  /** Listings of the person's apps that still leave it out (Graph shows a new installation late). */
  hiddenFromListings: number;
}

export type InstallOutcome = 'created' | 'exists' | 'noUser' | 'noApp';

export class FakeDirectory {
  private readonly users = new Map<string, FakeGraphUser>();
  private readonly usersByUpn = new Map<string, FakeGraphUser>();
  private readonly usersByMail = new Map<string, FakeGraphUser[]>();
  private readonly groups = new Map<string, FakeGraphGroup>();
  private readonly catalog = new Map<string, FakeCatalogApp>();
  private readonly installed = new Map<string, StoredInstallation[]>();
  private readonly transitiveCache = new Map<string, FakeGraphUser[]>();

  /** How many listings of a person's apps leave out an installation just made (0: shown at once). */
  installationLag = 0;

  constructor(private readonly botId: string) {}

  load(seed: FakeGraphSeed): void {
    for (const user of seed.users ?? []) {
      this.users.set(user.id, user);
      this.usersByUpn.set(user.userPrincipalName.toLowerCase(), user);
      if (user.mail !== undefined) {
        const key = user.mail.toLowerCase();
        this.usersByMail.set(key, [...(this.usersByMail.get(key) ?? []).filter((other) => other.id !== user.id), user]);
      }
    }
    for (const group of seed.groups ?? []) this.groups.set(group.id, group);
    for (const app of seed.catalog ?? []) this.catalog.set(app.id, app);
    const lag = this.installationLag;
    this.installationLag = 0; // what a test seeds was installed long ago
    for (const installation of seed.installations ?? []) this.install(installation.userId, installation.catalogAppId);
    this.installationLag = lag;
    this.transitiveCache.clear();
  }

  /** GET /users/{id | userPrincipalName}: Graph matches the id or the UPN, not the mail. */
  userByKey(key: string): FakeGraphUser | undefined {
    return this.users.get(key) ?? this.usersByUpn.get(key.toLowerCase());
  }

  /** Users whose property equals the value, without regard to case (as Entra compares UPNs and mail). */
  usersWhere(property: 'id' | 'userPrincipalName' | 'mail', value: string): FakeGraphUser[] {
    if (property === 'id') return this.users.has(value) ? [this.users.get(value) as FakeGraphUser] : [];
    if (property === 'userPrincipalName') {
      const user = this.usersByUpn.get(value.toLowerCase());
      return user === undefined ? [] : [user];
    }
    return [...(this.usersByMail.get(value.toLowerCase()) ?? [])];
  }

  hasGroup(id: string): boolean {
    return this.groups.has(id);
  }

  /** Every user in the group or in a group nested in it, once, in a stable order; undefined for an unknown group. */
  transitiveUsers(groupId: string): readonly FakeGraphUser[] | undefined {
    if (!this.groups.has(groupId)) return undefined;
    let users = this.transitiveCache.get(groupId);
    if (users === undefined) {
      users = [];
      const seenUsers = new Set<string>();
      const seenGroups = new Set<string>();
      const visit = (id: string): void => {
        if (seenGroups.has(id)) return;
        seenGroups.add(id);
        for (const memberId of this.groups.get(id)?.memberIds ?? []) {
          if (this.groups.has(memberId)) visit(memberId);
          const user = this.users.get(memberId);
          if (user !== undefined && !seenUsers.has(memberId)) {
            seenUsers.add(memberId);
            (users as FakeGraphUser[]).push(user);
          }
        }
      };
      visit(groupId);
      this.transitiveCache.set(groupId, users);
    }
    return users;
  }

  /** The groups nested (directly or not) in a group, for the untyped transitiveMembers. */
  nestedGroups(groupId: string): FakeGraphGroup[] {
    const found: FakeGraphGroup[] = [];
    const seen = new Set<string>([groupId]);
    const visit = (id: string): void => {
      for (const memberId of this.groups.get(id)?.memberIds ?? []) {
        const group = this.groups.get(memberId);
        if (group === undefined || seen.has(memberId)) continue;
        seen.add(memberId);
        found.push(group);
        visit(memberId);
      }
    };
    visit(groupId);
    return found;
  }

  catalogApps(): FakeCatalogApp[] {
    return [...this.catalog.values()];
  }

  catalogApp(id: string): FakeCatalogApp | undefined {
    return this.catalog.get(id);
  }

  install(userId: string, catalogAppId: string): InstallOutcome {
    if (!this.users.has(userId)) return 'noUser';
    if (!this.catalog.has(catalogAppId)) return 'noApp';
    const list = this.installed.get(userId) ?? [];
    if (list.some((installation) => installation.catalogAppId === catalogAppId)) return 'exists';
    list.push({
      id: Buffer.from(`${userId}##${catalogAppId}`).toString('base64url'),
      catalogAppId,
      chatId: `19:${userId}_${this.botId}@unq.gbl.spaces`,
      hiddenFromListings: this.installationLag,
    });
    this.installed.set(userId, list);
    return 'created';
  }

  installationsOf(userId: string): readonly StoredInstallation[] | undefined {
    if (!this.users.has(userId)) return undefined;
    return this.installed.get(userId) ?? [];
  }

  /** The installations a listing of the person's apps shows now; each listing brings a late one closer to showing. */
  listInstallations(userId: string): readonly StoredInstallation[] | undefined {
    const installations = this.installationsOf(userId);
    if (installations === undefined) return undefined;
    const shown = installations.filter((installation) => installation.hiddenFromListings === 0);
    for (const installation of installations) installation.hiddenFromListings = Math.max(0, installation.hiddenFromListings - 1);
    return shown;
  }

  isInstalled(userId: string, catalogAppId: string): boolean {
    return (this.installed.get(userId) ?? []).some((installation) => installation.catalogAppId === catalogAppId);
  }
}

/**
 * `count` members named `<prefix>-<n>@<domain>` with ids `<prefix>-<n>` (n from 1), for tests and the bench;
 * every `guestEvery`-th one a guest whose UPN is the #EXT# form and whose mail is the address.
 */
export function numberedUsers(count: number, options: { prefix?: string; domain?: string; guestEvery?: number } = {}): FakeGraphUser[] {
  const prefix = options.prefix ?? 'user';
  const domain = options.domain ?? 'contoso.com';
  return Array.from({ length: count }, (_, index): FakeGraphUser => {
    const n = index + 1;
    const address = `${prefix}-${n}@${domain}`;
    const guest = options.guestEvery !== undefined && n % options.guestEvery === 0;
    return guest
      ? { id: `${prefix}-${n}`, userPrincipalName: `${prefix}-${n}_${domain}#EXT#@tenant.onmicrosoft.com`, mail: address, userType: 'Guest', displayName: `Guest ${n}` }
      : { id: `${prefix}-${n}`, userPrincipalName: address, mail: address, userType: 'Member', displayName: `Person ${n}` };
  });
}
