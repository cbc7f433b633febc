/**
 * The package arrows of Warden, checked by `npm run check:boundaries` (part of `npm test`).
 *
 *   contract   imports no other workspace (it is the one source of wire shapes)
 *   models     imports nothing of edge or hub (a library: face pipeline, model packages)
 *   edge, hub  never import each other; they meet only through the contract (MQTT)
 *   simulators are devices: they speak protocols and import only the contract
 *   dashboard  (the console, bundled for the browser) imports only *types* of the contract; its tests may
 *              also read the contract's catalogues, never hub/edge/simulators code
 *   deploy     assembles everything; tests that start several parts together live in deploy/test/
 *
 * Tests inside a workspace (hub/test, edge/test, ...) obey the same arrows as its sources, which is what keeps
 * "several parts together" tests in deploy/test/.
 *
 * And every workspace imports only the @warden/* workspaces its package.json declares (generated below from
 * the package.json files, so adding an import without declaring it fails here).
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

const WORKSPACES = ['contract', 'edge', 'hub', 'dashboard', 'simulators', 'models', 'deploy'];
const others = (...keep) => `^(${WORKSPACES.filter((w) => !keep.includes(w)).join('|')})/`;

/** `edge` → ['contract', 'models'] from edge/package.json (dependencies, devDependencies, peerDependencies). */
function declaredWorkspaces(ws) {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, ws, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies });
  return names.filter((n) => n.startsWith('@warden/')).map((n) => n.slice('@warden/'.length));
}

const declaredRules = WORKSPACES.map((ws) => ({
  name: `${ws}-imports-only-declared-workspaces`,
  comment: `${ws}/ imports a workspace its package.json does not declare (add "@warden/<name>": "0.1.0" to ${ws}/package.json, if the arrow is allowed at all)`,
  severity: 'error',
  from: { path: `^${ws}/` },
  to: { path: others(ws, ...declaredWorkspaces(ws)) },
}));

module.exports = {
  forbidden: [
    {
      name: 'contract-imports-no-workspace',
      comment: 'contract/ is the bottom of the graph: it imports no other workspace',
      severity: 'error',
      from: { path: '^contract/' },
      to: { path: others('contract') },
    },
    {
      name: 'edge-not-hub',
      comment: 'edge/ never imports hub/ (they meet only through the contract); a test using both belongs in deploy/test/',
      severity: 'error',
      from: { path: '^edge/' },
      to: { path: '^hub/' },
    },
    {
      name: 'hub-not-edge',
      comment: 'hub/ never imports edge/ (they meet only through the contract); a test using both belongs in deploy/test/',
      severity: 'error',
      from: { path: '^hub/' },
      to: { path: '^edge/' },
    },
    {
      name: 'simulators-only-contract',
      comment: 'simulators/ are devices: they import only the contract (no edge, hub or models code); a test with the edge belongs in deploy/test/',
      severity: 'error',
      from: { path: '^simulators/' },
      to: { path: others('simulators', 'contract') },
    },
    {
      name: 'models-not-edge-or-hub',
      comment: 'models/ is a library: it imports nothing of edge, hub (nor simulators, dashboard, deploy)',
      severity: 'error',
      from: { path: '^models/' },
      to: { path: others('models', 'contract') },
    },
    {
      name: 'dashboard-only-contract',
      comment: 'dashboard/ (the console) imports only the contract; a test with a hub belongs in deploy/test/',
      severity: 'error',
      from: { path: '^dashboard/' },
      to: { path: others('dashboard', 'contract') },
    },
    {
      name: 'dashboard-src-only-contract-types',
      comment: 'the console imports only types of the contract (import type / export type): no contract code in the browser bundle',
      severity: 'error',
      from: { path: '^dashboard/src/' },
      to: { path: '^contract/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'npm-package-declared',
      comment: 'an npm package imported but not declared in the package.json closest to the importing file (or the root one)',
      severity: 'error',
      from: { path: '^(contract|edge|hub|dashboard|simulators|models|deploy)/src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve to a file or a package',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    ...declaredRules,
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)dist/', '^models/build/', '\\.tmp\\.'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
