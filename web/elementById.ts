/** The page's element with this id, of the expected kind; a missing one is a bug in index.html. */
export function elementById<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`index.html has no ${kind.name} #${id}`);
  return element;
}

/** Replaces an element's children with one text paragraph per problem (empty: clears it). */
export function showProblems(container: HTMLElement, problems: readonly string[]): void {
  container.replaceChildren(
    ...problems.map((problem) => {
      const line = document.createElement('p');
      line.textContent = problem;
      return line;
    }),
  );
}

export function formatCount(value: number | null | undefined): string {
  return typeof value === 'number' ? value.toLocaleString('en-US') : '–';
}
