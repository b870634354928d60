/**
 * The environments of a project as a tree, the way `slipway env list` prints it and the web
 * interface's project page shows it: master, integration, staging and production as roots (in
 * that order), each child under its parent, children in the order they were created.
 */
export interface TreeEntry {
  name: string;
  type: string;
  status: string;
  parent?: string;
}

/** An environment's entry with its children. */
export type TreeNode<E extends TreeEntry = TreeEntry> = E & { children: Array<TreeNode<E>> };

const ROOT_ORDER = ['master', 'integration', 'staging', 'production'];

export function environmentTree<E extends TreeEntry>(envs: readonly E[]): Array<TreeNode<E>> {
  const nodes = new Map<string, TreeNode<E>>(envs.map((e) => [e.name, { ...e, children: [] }]));
  const roots: Array<TreeNode<E>> = [];
  for (const n of nodes.values()) {
    const parent = n.parent ? nodes.get(n.parent) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const rank = (name: string): number => (ROOT_ORDER.includes(name) ? ROOT_ORDER.indexOf(name) : ROOT_ORDER.length);
  roots.sort((a, b) => rank(a.name) - rank(b.name));
  return roots;
}

/** The tree's rows, depth first (each right under its parent), with their depth: what a table shows. */
export function treeRows<E extends TreeEntry>(roots: ReadonlyArray<TreeNode<E>>): Array<{ node: TreeNode<E>; depth: number }> {
  const rows: Array<{ node: TreeNode<E>; depth: number }> = [];
  const seen = new Set<string>();
  const walk = (n: TreeNode<E>, depth: number): void => {
    if (seen.has(n.name)) return; // each environment once, whatever the registry holds
    seen.add(n.name);
    rows.push({ node: n, depth });
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return rows;
}
