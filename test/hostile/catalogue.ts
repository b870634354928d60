/**
 * The hostile-input catalogue: bad inputs a user, a service or an SRE can send, across every
 * surface of Slipway, each with the error it must produce. One place for all of them;
 * test/e2e/hostile-input.test.ts runs every case against the real stack (Temporal, worker, API,
 * git remotes with their hooks, the `slipway` binary) and checks that nothing changed.
 *
 * Placeholders in strings: {project} is the project the case runs against, {ticket} the ticket
 * the case names (see TicketFixture). A case refuses: none of them may change state.
 */

/** The tickets the test opens before the cases run. */
export type TicketFixture =
  /** production, 2 approvals needed, requested by alice, approved once by sue: open */
  | 'open'
  /** requested by sam (a support engineer): open */
  | 'requested-by-sam'
  /** rejected by sue: closed */
  | 'closed'
  /** the ticket of the open promotion to staging (requested by alice) */
  | 'promotion'
  /** like 'open', for the signal cases */
  | 'signals';

export type User = 'alice' | 'bob' | 'sam' | 'sue' | 'ada';

interface Base {
  id: string;
  description: string;
}

/** `slipway <args>` as a user types it; exit code and the message on stderr. */
export interface CliCase extends Base {
  surface: 'cli';
  args: string[];
  ticket?: TicketFixture;
  /** Run through the API (SLIPWAY_API_URL, SLIPWAY_TOKEN) as this sample user, not on the engine host. */
  api?: User;
  /** Files the command reads, written to a temporary directory: {dir} in args is replaced by it. */
  files?: Record<string, string>;
  expected: { exitCode: 1 | 2; message: RegExp };
}

/** One HTTP request to the API; status and the message in the body. */
export interface ApiCase extends Base {
  surface: 'api';
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** A sample user's token (slipway-dev-<user>), or the raw Authorization header, or none. */
  auth?: User | { header: string };
  /** JSON body; or raw text with its content type. */
  body?: unknown;
  raw?: { contentType: string; text: string };
  ticket?: TicketFixture;
  expected: { status: 400 | 401 | 403 | 404 | 409 | 413 | 415; message: RegExp };
}

/** An Update sent with the Temporal client, as the Temporal UI or a script can: the validator (or the handler) refuses it. */
export interface UpdateCase extends Base {
  surface: 'update';
  /** e.g. "project/{project}", "env/{project}/integration", "ticket/{project}/{ticket}" */
  workflowId: string;
  update: string;
  args: unknown[];
  ticket?: TicketFixture;
  expected: { message: RegExp };
}

/**
 * A signal, as `temporal workflow signal` or the Temporal UI sends it. A signal cannot be
 * refused to its sender: a decision is kept in the ticket's record as a refused attempt
 * (`recorded`), anything else is ignored; either way the workflow stays healthy and its state
 * does not change.
 */
export interface SignalCase extends Base {
  surface: 'signal';
  workflowId: string;
  signal: string;
  args: unknown[];
  ticket?: TicketFixture;
  expected: { recorded?: RegExp; message: RegExp };
}

/** `git push` to the project's remote: the pre-receive hook refuses it. */
export interface GitPushCase extends Base {
  surface: 'git-push';
  /** e.g. "HEAD:refs/heads/staging"; ":refs/heads/integration" deletes */
  refspec: string;
  expected: { message: RegExp };
}

/**
 * A project file, pushed in a commit of the sample store: the deployment fails at validation
 * with an error naming the file, the key path and the reason, and nothing is deployed.
 * content: text, null (the file is deleted), raw bytes, or a symbolic link to a path.
 */
export interface ProjectFileCase extends Base {
  surface: 'project-files';
  file: string;
  content: string | null | { bytes: number[] } | { symlink: string };
  expected: { message: RegExp };
}

export type HostileCase = CliCase | ApiCase | UpdateCase | SignalCase | GitPushCase | ProjectFileCase;
export type Surface = HostileCase['surface'];

const APP_HEAD = 'name: mymagento\ntype: php:8.3\n';
const pf = (id: string, description: string, file: string, content: ProjectFileCase['content'], message: RegExp): ProjectFileCase => ({
  id,
  surface: 'project-files',
  description,
  file,
  content,
  expected: { message },
});

/** A public key (ssh-keygen -t ed25519), for the SSH-key cases. */
export const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 alice@laptop';
const ROSTER = [
  { user: 'alice', roles: ['developer'] },
  { user: 'sam', roles: ['support'] },
];
const RELEASE = { deployment: 1, commit: 'a'.repeat(40), slug: 'x', treeId: 'b'.repeat(40) };
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const LONG_NAME = `a${'b'.repeat(40)}`; // 41 characters

export const PROJECT_FILE_CASES: ProjectFileCase[] = [
  // .magento.app.yaml
  pf('pf/app-missing', 'app: missing', '.magento.app.yaml', null, /\.magento\.app\.yaml: file is missing/),
  pf('pf/app-bad-yaml', 'app: bad YAML', '.magento.app.yaml', 'name: [mymagento\ntype: php\n', /\.magento\.app\.yaml: invalid YAML at line \d+/),
  pf('pf/app-a-list-not-a-map', 'app: a list, not a map', '.magento.app.yaml', '- name\n- type\n', /\.magento\.app\.yaml: .*not a list/),
  pf('pf/app-no-name', 'app: no name', '.magento.app.yaml', 'type: php:8.3\n', /\.magento\.app\.yaml: name: must be the application name/),
  pf('pf/app-type-is-a-number', 'app: type is a number', '.magento.app.yaml', 'name: mymagento\ntype: 8\n', /\.magento\.app\.yaml: type: must be a runtime/),
  pf('pf/app-build-hook-is-a-list', 'app: build hook is a list', '.magento.app.yaml', `${APP_HEAD}hooks:\n  build: [make, install]\n`, /\.magento\.app\.yaml: hooks\.build: must be a shell script/),
  pf('pf/app-negative-disk', 'app: negative disk', '.magento.app.yaml', `${APP_HEAD}disk: -5\n`, /\.magento\.app\.yaml: disk: must be a positive size in MB/),
  pf('pf/app-mount-escaping-the-app', 'app: mount escaping the app', '.magento.app.yaml', `${APP_HEAD}mounts:\n  "../etc": "shared:files/etc"\n`, /\.magento\.app\.yaml: mounts\.\.\.\/etc: a mount path must be a relative path/),
  pf('pf/app-mount-of-an-unknown-kind', 'app: mount of an unknown kind', '.magento.app.yaml', `${APP_HEAD}mounts:\n  "var": "nfs:files/var"\n`, /\.magento\.app\.yaml: mounts\.var: must be "shared:files\/<path>"/),
  pf('pf/app-web-root-climbing-out', 'app: a web root of "../../../../../../../.."', '.magento.app.yaml', `${APP_HEAD}web:\n  locations:\n    "/":\n      root: "../../../../../../../.."\n`, /\.magento\.app\.yaml: web\.locations\."\/"\.root: must be a directory inside the application, without "\.\."/),
  pf('pf/app-web-root-absolute', 'app: an absolute web root', '.magento.app.yaml', `${APP_HEAD}web:\n  locations:\n    "/":\n      root: "/etc"\n`, /\.magento\.app\.yaml: web\.locations\."\/"\.root: must be a directory relative to the application, such as "pub", not the absolute path "\/etc"/),
  pf('pf/app-relationship-to-no-service', 'app: relationship to no service', '.magento.app.yaml', `${APP_HEAD}relationships:\n  search: "opensearch:opensearch"\n`, /\.magento\.app\.yaml: relationships\.search: /),
  // .magento/services.yaml
  pf('pf/services-bad-yaml', 'services: bad YAML', '.magento/services.yaml', 'mysql:\n  type: mysql:10.6\n   disk: 2048\n', /\.magento\/services\.yaml: invalid YAML at line \d+/),
  pf('pf/services-unknown-kind', 'services: unknown kind', '.magento/services.yaml', 'mysql:\n  type: postgresq:15\n  disk: 1024\n', /\.magento\/services\.yaml: mysql\.type: unknown service kind "postgresq"/),
  pf('pf/services-unsupported-version', 'services: unsupported version', '.magento/services.yaml', 'mysql:\n  type: mysql:5.1\n  disk: 1024\n', /\.magento\/services\.yaml: mysql\.type: .*10\.6/),
  pf('pf/services-type-without-version', 'services: type without version', '.magento/services.yaml', 'mysql:\n  type: mysql\n  disk: 1024\n', /\.magento\/services\.yaml: mysql\.type: /),
  pf('pf/services-mysql-without-disk', 'services: mysql without disk', '.magento/services.yaml', 'mysql:\n  type: mysql:10.6\n', /\.magento\/services\.yaml: mysql\.disk: /),
  pf('pf/services-disk-on-redis', 'services: disk on redis', '.magento/services.yaml', 'mysql:\n  type: mysql:10.6\n  disk: 512\nredis:\n  type: redis:7.2\n  disk: 512\n', /\.magento\/services\.yaml: redis\.disk: /),
  // .magento/routes.yaml
  pf('pf/routes-unknown-placeholder', 'routes: unknown placeholder', '.magento/routes.yaml', '"http://{defualt}/":\n  type: upstream\n  upstream: "mymagento:http"\n', /\.magento\/routes\.yaml: .*unknown route placeholder "\{defualt\}"; use \{default\} or \{all\}/),
  pf('pf/routes-no-type', 'routes: no type', '.magento/routes.yaml', '"http://{default}/":\n  upstream: "mymagento:http"\n', /\.magento\/routes\.yaml: "http:\/\/\{default\}\/"\.type: /),
  pf('pf/routes-upstream-without-http', 'routes: upstream without :http', '.magento/routes.yaml', '"http://{default}/":\n  type: upstream\n  upstream: "mymagento"\n', /\.magento\/routes\.yaml: "http:\/\/\{default\}\/"\.upstream: /),
  pf('pf/routes-redirect-without-target', 'routes: redirect without target', '.magento/routes.yaml', '"http://{default}/":\n  type: upstream\n  upstream: "mymagento:http"\n"http://www.{default}/":\n  type: redirect\n', /\.magento\/routes\.yaml: "http:\/\/www\.\{default\}\/"\.to: /),
  pf('pf/routes-upstream-names-another-app', 'routes: upstream names another app', '.magento/routes.yaml', '"http://{default}/":\n  type: upstream\n  upstream: "shop:http"\n', /upstream "shop:http" names no application; the application is "mymagento"/),
  pf('pf/routes-key-is-no-url', 'routes: key is no URL', '.magento/routes.yaml', '"{default}/shop":\n  type: upstream\n  upstream: "mymagento:http"\n', /\.magento\/routes\.yaml: "\{default\}\/shop": /),
  // .magento.env.yaml
  pf('pf/env-unknown-stage', 'env: unknown stage', '.magento.env.yaml', 'stage:\n  deplyo:\n    SCD_THREADS: 2\n', /\.magento\.env\.yaml: stage\.deplyo: /),
  pf('pf/env-scd-threads-a-word', 'env: SCD_THREADS a word', '.magento.env.yaml', 'stage:\n  build:\n    SCD_THREADS: four\n', /\.magento\.env\.yaml: stage\.build\.SCD_THREADS: must be a whole number from 1 to 64/),
  pf('pf/env-scd-threads-zero', 'env: SCD_THREADS zero', '.magento.env.yaml', 'stage:\n  deploy:\n    SCD_THREADS: 0\n', /\.magento\.env\.yaml: stage\.deploy\.SCD_THREADS: must be a whole number from 1 to 64/),
  pf('pf/env-warm-up-pages-not-a-list', 'env: WARM_UP_PAGES not a list', '.magento.env.yaml', 'stage:\n  post-deploy:\n    WARM_UP_PAGES: "/"\n', /\.magento\.env\.yaml: stage\.post-deploy\.WARM_UP_PAGES: /),
  pf('pf/env-warm-up-pages-entry-not-a-path', 'env: WARM_UP_PAGES entry not a page', '.magento.env.yaml', 'stage:\n  post-deploy:\n    WARM_UP_PAGES:\n      - "ftp://shop.test/home"\n', /\.magento\.env\.yaml: stage\.post-deploy\.WARM_UP_PAGES\.0: /),
  pf('pf/env-skip-scd-yes', 'env: SKIP_SCD "yes"', '.magento.env.yaml', 'stage:\n  build:\n    SKIP_SCD: "yes"\n', /\.magento\.env\.yaml: stage\.build\.SKIP_SCD: /),
  // app/etc/config.php
  pf('pf/config-php-not-an-array-literal', 'config.php: not an array literal', 'app/etc/config.php', '<?php\nreturn loadConfig();\n', /app\/etc\/config\.php: line 2, column \d+: /),
  pf('pf/config-php-missing-semicolon', 'config.php: missing semicolon', 'app/etc/config.php', "<?php\nreturn ['modules' => ['Magento_Store' => 1]]\n", /app\/etc\/config\.php: line \d+, column \d+: /),
  pf('pf/config-php-a-module-flag-of-2', 'config.php: a module flag of 2', 'app/etc/config.php', "<?php\nreturn ['modules' => ['Magento_Store' => 2]];\n", /app\/etc\/config\.php: modules\.Magento_Store: /),
  pf('pf/config-php-a-bad-theme-key', 'config.php: a bad theme key', 'app/etc/config.php', "<?php\nreturn ['themes' => ['Luma' => ['area' => 'frontend']]];\n", /app\/etc\/config\.php: themes\.Luma: /),
  pf('pf/config-php-a-bad-locale', 'config.php: a bad locale', 'app/etc/config.php', "<?php\nreturn ['system' => ['default' => ['general' => ['locale' => ['code' => 'english']]]]];\n", /app\/etc\/config\.php: system\.default\.general\.locale\.code: /),
  // Hostile files
  pf('pf/app-yaml-alias-bomb', 'app: a "billion laughs" alias bomb', '.magento.app.yaml',
    `${APP_HEAD}a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n`,
    /\.magento\.app\.yaml: invalid YAML: .*alias/i),
  pf('pf/services-deeply-nested', 'services: flow lists nested 5000 deep', '.magento/services.yaml',
    `mysql: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /\.magento\/services\.yaml: invalid YAML at line 1: the document is nested too deeply to be a project file/),
  pf('pf/app-not-utf8', 'app: not UTF-8 (Latin-1 bytes)', '.magento.app.yaml',
    { bytes: [...Buffer.from('name: mymagento\ntype: php:8.3\nhooks:\n  build: echo caf'), 0xe9, 0x0a] },
    /\.magento\.app\.yaml: is not UTF-8 text \(invalid byte at offset 54\)/),
  pf('pf/routes-symlink-out', 'routes: a symbolic link to a file outside the repository', '.magento/routes.yaml',
    { symlink: '/etc/passwd' }, /\.magento\/routes\.yaml: must be a file in the repository, not a symbolic link/),
  pf('pf/env-huge-threads', 'env: SCD_THREADS of 10^20', '.magento.env.yaml', 'stage:\n  build:\n    SCD_THREADS: 100000000000000000000\n',
    /\.magento\.env\.yaml: stage\.build\.SCD_THREADS: must be a whole number from 1 to 64/),
  pf('pf/config-php-deep', 'config.php: arrays nested 1000 deep', 'app/etc/config.php',
    `<?php\nreturn ${'['.repeat(1000)}${']'.repeat(1000)};\n`, /app\/etc\/config\.php: line 2, column \d+: arrays are nested deeper than 64 levels/),
  pf('pf/config-php-shell', 'config.php: a shell command in backticks', 'app/etc/config.php',
    "<?php\nreturn ['modules' => `rm -rf /`];\n", /app\/etc\/config\.php: line 2, column \d+: expected a value/),
  pf('pf/app-hook-not-string', 'app: deploy hook is a map', '.magento.app.yaml', `${APP_HEAD}hooks:\n  deploy: {run: "php bin/magento"}\n`,
    /\.magento\.app\.yaml: hooks\.deploy: must be a shell script/),
];

export const CLI_CASES: CliCase[] = [
  { id: 'cli/branch-path-traversal', surface: 'cli', description: 'an environment named "../x"', args: ['env', 'branch', '{project}', '../x', '--no-wait'], expected: { exitCode: 1, message: /refused: environment name "\.\.\/x" contains "\.\."/ } },
  { id: 'cli/branch-too-long', surface: 'cli', description: 'an environment name of 41 characters', args: ['env', 'branch', '{project}', LONG_NAME, '--no-wait'], expected: { exitCode: 1, message: /is 41 characters long; at most 40/ } },
  { id: 'cli/branch-uppercase', surface: 'cli', description: 'an environment name with capitals', args: ['env', 'branch', '{project}', 'Feature', '--no-wait'], expected: { exitCode: 1, message: /has capital letters; use lowercase/ } },
  { id: 'cli/branch-shell-metacharacters', surface: 'cli', description: 'an environment name with shell metacharacters', args: ['env', 'branch', '{project}', 'x;rm$(id)', '--no-wait'], expected: { exitCode: 1, message: /may contain only lowercase letters, digits and "-"/ } },
  { id: 'cli/branch-from-master', surface: 'cli', description: 'branching from master', args: ['env', 'branch', '{project}', 'frommaster', '--parent', 'master', '--no-wait'], expected: { exitCode: 1, message: /nobody may branch from master/ } },
  { id: 'cli/branch-from-nowhere', surface: 'cli', description: 'branching from a parent that does not exist', args: ['env', 'branch', '{project}', 'orphan', '--parent', 'ghost', '--no-wait'], expected: { exitCode: 1, message: /no environment "ghost" in project/ } },
  { id: 'cli/delete-master', surface: 'cli', description: 'deleting master', args: ['env', 'delete', '{project}', 'master'], expected: { exitCode: 1, message: /master cannot be deleted: every project keeps master, integration, staging and production/ } },
  { id: 'cli/deactivate-integration', surface: 'cli', description: 'deactivating integration', args: ['env', 'deactivate', '{project}', 'integration'], expected: { exitCode: 1, message: /integration is always active/ } },
  { id: 'cli/status-unknown-env', surface: 'cli', description: 'the status of an environment that does not exist', args: ['env', 'status', '{project}', 'nowhere'], expected: { exitCode: 1, message: /no environment nowhere in project/ } },
  { id: 'cli/status-bad-project-id', surface: 'cli', description: 'a project id with capitals and "_"', args: ['env', 'status', 'Bad_Project', 'integration'], expected: { exitCode: 2, message: /project id must be 3 to 40 characters/ } },
  { id: 'cli/log-path-traversal', surface: 'cli', description: 'a deployment log of "../../.." (outside the logs)', args: ['env', 'log', '{project}', '../../..', '1'], expected: { exitCode: 2, message: /environment name "\.\.\/\.\.\/\.\." contains "\.\."/ } },
  { id: 'cli/log-deployment-zero', surface: 'cli', description: 'deployment number 0', args: ['env', 'log', '{project}', 'integration', '0'], expected: { exitCode: 2, message: /deployment must be a positive integer/ } },
  { id: 'cli/rollback-negative', surface: 'cli', description: 'rollback --to -1', args: ['env', 'rollback', '{project}', 'integration', '--to', '-1'], expected: { exitCode: 2, message: /must be a deployment number/ } },
  { id: 'cli/create-bad-id', surface: 'cli', description: 'a project id of two characters', args: ['project', 'create', 'ab', '--no-wait'], expected: { exitCode: 2, message: /project id must be 3 to 40 characters/ } },
  { id: 'cli/create-existing', surface: 'cli', description: 'creating a project that exists', args: ['project', 'create', '{project}', '--no-wait'], expected: { exitCode: 1, message: /project .* already exists/ } },
  { id: 'cli/create-bad-plan', surface: 'cli', description: 'an unknown plan', args: ['project', 'create', 'hostile-plan', '--plan', 'gold', '--no-wait'], expected: { exitCode: 2, message: /plan must be "pro" or "enterprise"/ } },
  { id: 'cli/create-three-approvals', surface: 'cli', description: '--production-approvals 3', args: ['project', 'create', 'hostile-appr', '--production-approvals', '3', '--no-wait'], expected: { exitCode: 2, message: /production approvals must be 1 or 2/ } },
  { id: 'cli/create-from-nowhere', surface: 'cli', description: '--from a directory that does not exist', args: ['project', 'create', 'hostile-from', '--from', '/nonexistent/store', '--no-wait'], expected: { exitCode: 2, message: /--from \/nonexistent\/store: not a directory/ } },
  { id: 'cli/ticket-bad-id', surface: 'cli', description: 'a ticket id that is no SUP-<n>', args: ['ticket', 'approve', '{project}', 'SUP-1;x', '--as', 'sam'], expected: { exitCode: 2, message: /ticket must look like SUP-<number>/ } },
  { id: 'cli/ticket-unknown', surface: 'cli', description: 'a ticket that does not exist', args: ['ticket', 'show', '{project}', 'SUP-99999'], expected: { exitCode: 1, message: /no ticket SUP-99999 in project/ } },
  { id: 'cli/approve-as-developer', surface: 'cli', description: 'a developer approving', args: ['ticket', 'approve', '{project}', '{ticket}', '--as', 'alice'], ticket: 'open', expected: { exitCode: 1, message: /refused: alice is not in the support role/ } },
  { id: 'cli/approve-unknown-user', surface: 'cli', description: 'a user the identities file does not know', args: ['ticket', 'approve', '{project}', '{ticket}', '--as', 'mallory'], ticket: 'open', expected: { exitCode: 1, message: /refused: unknown user "mallory"/ } },
  { id: 'cli/promote-unknown-target', surface: 'cli', description: 'promoting to "qa"', args: ['promote', '{project}', 'qa', '--as', 'alice'], expected: { exitCode: 2, message: /promote to staging or production, not "qa"/ } },
  { id: 'cli/api-other-team', surface: 'cli', description: "through the API, listing another team's environments", api: 'bob', args: ['env', 'list', '{project}'], expected: { exitCode: 1, message: /bob needs the role developer, support or admin on project hostile-/ } },
  { id: 'cli/api-other-team-branch', surface: 'cli', description: "through the API, branching in another team's project", api: 'bob', args: ['env', 'branch', '{project}', 'bob-was-here', '--inactive'], expected: { exitCode: 1, message: /bob needs the role developer or admin on project hostile-/ } },
  { id: 'cli/api-as', surface: 'cli', description: 'through the API, approving --as another user', api: 'alice', args: ['ticket', 'approve', '{project}', '{ticket}', '--as', 'sam'], ticket: 'open', expected: { exitCode: 2, message: /--as is accepted only on the engine host/ } },
  { id: 'cli/api-no-route', surface: 'cli', description: 'through the API, a command that has no route', api: 'ada', args: ['env', 'ssh-keys', '{project}', 'production', '--add', '{dir}/id.pub'], files: { 'id.pub': `${'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3'} x\n` }, expected: { exitCode: 2, message: /`slipway env ssh-keys` runs only on the engine host/ } },
  { id: 'cli/promote-without-as', surface: 'cli', description: 'promoting without --as', args: ['promote', '{project}', 'staging'], expected: { exitCode: 2, message: /promote needs --as <user> on the engine host/ } },
  { id: 'cli/promote-while-open', surface: 'cli', description: 'promoting while a promotion to staging is open', args: ['promote', '{project}', 'staging', '--as', 'bob'], expected: { exitCode: 1, message: /staging has an open promotion already \(SUP-\d+\)/ } },
  { id: 'cli/ssh-key-garbage', surface: 'cli', description: 'an SSH "public key" file that is a private key', files: { 'id': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' }, args: ['env', 'ssh-keys', '{project}', 'production', '--add', '{dir}/id', '--as', 'alice'], expected: { exitCode: 2, message: /this is a private key: give the public one/ } },
  { id: 'cli/unknown-command', surface: 'cli', description: 'a command that does not exist', args: ['env', 'frobnicate', '{project}'], expected: { exitCode: 2, message: /unknown command 'frobnicate'/ } },
];

export const API_CASES: ApiCase[] = [
  { id: 'api/no-token', surface: 'api', description: 'no Authorization header', method: 'GET', path: '/v1/projects/{project}', expected: { status: 401, message: /a valid bearer token is required/ } },
  { id: 'api/unknown-token', surface: 'api', description: 'a token nobody has', method: 'GET', path: '/v1/projects/{project}', auth: { header: 'Bearer slipway-dev-mallory' }, expected: { status: 401, message: /a valid bearer token is required/ } },
  { id: 'api/basic-auth', surface: 'api', description: 'Basic instead of Bearer', method: 'GET', path: '/v1/projects/{project}', auth: { header: 'Basic YWxpY2U6c2VjcmV0' }, expected: { status: 401, message: /a valid bearer token is required/ } },
  { id: 'api/hook-without-token', surface: 'api', description: 'the git hook endpoint called with a user token', method: 'POST', path: '/v1/hooks/post-receive', auth: 'ada', body: { project: '{project}', updates: [{ branch: 'staging', before: SHA_A, after: SHA_B }] }, expected: { status: 401, message: /a valid hook token is required/ } },
  // Roles are per project: bob is a developer of "shop" only (examples/identities.yaml).
  { id: 'api/other-team-read', surface: 'api', description: "a developer reading another team's project", method: 'GET', path: '/v1/projects/{project}', auth: 'bob', expected: { status: 403, message: /bob needs the role developer, support or admin on project hostile-\S+ for this/ } },
  { id: 'api/other-team-tickets', surface: 'api', description: "a developer listing another team's tickets", method: 'GET', path: '/v1/projects/{project}/tickets', auth: 'bob', expected: { status: 403, message: /bob needs the role developer, support or admin on project hostile-/ } },
  { id: 'api/other-team-branch', surface: 'api', description: "a developer branching in another team's project", method: 'POST', path: '/v1/projects/{project}/environments', auth: 'bob', body: { name: 'bob-was-here' }, expected: { status: 403, message: /bob needs the role developer or admin on project hostile-\S+ for this/ } },
  { id: 'api/other-team-delete', surface: 'api', description: "a developer deleting another team's environment", method: 'DELETE', path: '/v1/projects/{project}/environments/integration', auth: 'bob', expected: { status: 403, message: /bob needs the role developer or admin on project hostile-/ } },
  { id: 'api/other-team-redeploy', surface: 'api', description: "a developer redeploying another team's environment", method: 'POST', path: '/v1/projects/{project}/environments/integration/redeploy', auth: 'bob', expected: { status: 403, message: /bob needs the role developer or admin on project hostile-/ } },
  { id: 'api/other-team-promote', surface: 'api', description: "a developer promoting another team's project", method: 'POST', path: '/v1/projects/{project}/promotions', auth: 'bob', body: { target: 'staging' }, expected: { status: 403, message: /bob needs the role developer or admin on project hostile-/ } },
  { id: 'api/developer-creates-project', surface: 'api', description: 'a developer creating a project', method: 'POST', path: '/v1/projects', auth: 'alice', body: { project: 'hostile-nope' }, expected: { status: 403, message: /alice needs the role admin/ } },
  { id: 'api/support-branches', surface: 'api', description: 'a support engineer creating an environment', method: 'POST', path: '/v1/projects/{project}/environments', auth: 'sam', body: { name: 'support-env' }, expected: { status: 403, message: /sam needs the role developer or admin/ } },
  { id: 'api/developer-decides', surface: 'api', description: 'a developer deciding a ticket, naming a support engineer in the body', method: 'POST', path: '/v1/projects/{project}/tickets/{ticket}/decision', auth: 'alice', body: { decision: 'approve', user: 'sam' }, ticket: 'open', expected: { status: 403, message: /alice needs the role support/ } },
  { id: 'api/bad-project-id', surface: 'api', description: 'a project id with capitals', method: 'GET', path: '/v1/projects/Bad_Project', auth: 'alice', expected: { status: 400, message: /project id must be 3 to 40 characters/ } },
  { id: 'api/unknown-project', surface: 'api', description: 'a project that does not exist', method: 'GET', path: '/v1/projects/no-such-project-here/environments', auth: 'alice', expected: { status: 404, message: /no project no-such-project-here/ } },
  { id: 'api/env-path-traversal', surface: 'api', description: 'an environment named "../../x" (encoded slashes)', method: 'GET', path: '/v1/projects/{project}/environments/..%2F..%2Fx', auth: 'alice', expected: { status: 400, message: /environment name "\.\.\/\.\.\/x" contains "\.\."/ } },
  { id: 'api/unknown-ticket', surface: 'api', description: 'a ticket that does not exist', method: 'POST', path: '/v1/projects/{project}/tickets/SUP-99999/decision', auth: 'sam', body: { decision: 'approve' }, expected: { status: 404, message: /no ticket SUP-99999 in project/ } },
  { id: 'api/ticket-id-injection', surface: 'api', description: 'a ticket id with a query-language quote', method: 'GET', path: '/v1/projects/{project}/tickets/SUP-1%22%20OR%20%221', auth: 'sam', expected: { status: 400, message: /must look like SUP-<number>/ } },
  { id: 'api/body-wrong-types', surface: 'api', description: 'name a number and inactive a string', method: 'POST', path: '/v1/projects/{project}/environments', auth: 'alice', body: { name: 5, inactive: 'yes' }, expected: { status: 400, message: /invalid request: .*name.*|name/ } },
  { id: 'api/body-not-json', surface: 'api', description: 'a body that is not JSON', method: 'POST', path: '/v1/projects/{project}/environments', auth: 'alice', raw: { contentType: 'application/json', text: '{"name": "x",' }, expected: { status: 400, message: /JSON/ } },
  { id: 'api/body-text-plain', surface: 'api', description: 'a form-like text/plain body', method: 'POST', path: '/v1/projects/{project}/promotions', auth: 'alice', raw: { contentType: 'text/plain', text: 'target=staging' }, expected: { status: 400, message: /invalid request: body.*expected object, received string/ } },
  { id: 'api/body-xml', surface: 'api', description: 'an XML body', method: 'POST', path: '/v1/projects/{project}/promotions', auth: 'alice', raw: { contentType: 'application/xml', text: '<target>staging</target>' }, expected: { status: 415, message: /Unsupported Media Type/i } },
  { id: 'api/body-too-large', surface: 'api', description: 'a 2 MB body', method: 'POST', path: '/v1/projects/{project}/tickets/{ticket}/decision', auth: 'sam', body: { decision: 'reject', comment: 'x'.repeat(2_000_000) }, ticket: 'open', expected: { status: 413, message: /too large/i } },
  { id: 'api/comment-too-long', surface: 'api', description: 'a 2001-character comment', method: 'POST', path: '/v1/projects/{project}/tickets/{ticket}/decision', auth: 'sam', body: { decision: 'reject', comment: 'x'.repeat(2001) }, ticket: 'open', expected: { status: 400, message: /comment/ } },
  { id: 'api/branch-dotdot', surface: 'api', description: 'an environment named "../etc"', method: 'POST', path: '/v1/projects/{project}/environments', auth: 'alice', body: { name: '../etc' }, expected: { status: 400, message: /environment name "\.\.\/etc" contains "\.\."/ } },
  { id: 'api/branch-unicode', surface: 'api', description: 'an environment named "café"', method: 'POST', path: '/v1/projects/{project}/environments', auth: 'alice', body: { name: 'café' }, expected: { status: 400, message: /may contain only lowercase letters, digits and "-"/ } },
  { id: 'api/delete-master', surface: 'api', description: 'deleting master', method: 'DELETE', path: '/v1/projects/{project}/environments/master', auth: 'alice', expected: { status: 409, message: /master cannot be deleted/ } },
  { id: 'api/merge-production', surface: 'api', description: 'merging production into its parent', method: 'POST', path: '/v1/projects/{project}/environments/production/merge', auth: 'alice', expected: { status: 409, message: /production cannot be merged: its code arrives only by promotion/ } },
  { id: 'api/promote-while-open', surface: 'api', description: 'a second promotion to staging', method: 'POST', path: '/v1/projects/{project}/promotions', auth: 'ada', body: { target: 'staging' }, expected: { status: 409, message: /staging has an open promotion already/ } },
  { id: 'api/promote-unknown-target', surface: 'api', description: 'promoting to "master"', method: 'POST', path: '/v1/projects/{project}/promotions', auth: 'alice', body: { target: 'master' }, expected: { status: 400, message: /target/ } },
  { id: 'api/self-approval', surface: 'api', description: 'a support engineer approving their own request', method: 'POST', path: '/v1/projects/{project}/tickets/{ticket}/decision', auth: 'sam', body: { decision: 'approve' }, ticket: 'requested-by-sam', expected: { status: 409, message: /sam requested this and cannot decide it/ } },
  { id: 'api/double-approval', surface: 'api', description: 'sue approving a second time', method: 'POST', path: '/v1/projects/{project}/tickets/{ticket}/decision', auth: 'sue', body: { decision: 'approve' }, ticket: 'open', expected: { status: 409, message: /sue has approved already; SUP-\d+ needs 2 distinct approvers/ } },
  { id: 'api/decide-closed', surface: 'api', description: 'approving a rejected ticket', method: 'POST', path: '/v1/projects/{project}/tickets/{ticket}/decision', auth: 'sam', body: { decision: 'approve' }, ticket: 'closed', expected: { status: 409, message: /SUP-\d+ is rejected: it takes no more decisions/ } },
  { id: 'api/rollback-fraction', surface: 'api', description: 'rollback to deployment 1.5', method: 'POST', path: '/v1/projects/{project}/environments/integration/rollback', auth: 'alice', body: { to: 1.5 }, expected: { status: 400, message: /to/ } },
  { id: 'api/log-not-a-number', surface: 'api', description: 'the log of deployment "latest"', method: 'GET', path: '/v1/projects/{project}/environments/integration/deployments/latest/log', auth: 'alice', expected: { status: 400, message: /deployment/ } },
];

export const UPDATE_CASES: UpdateCase[] = [
  { id: 'update/branch-null', surface: 'update', description: 'branch with no request at all', workflowId: 'project/{project}', update: 'branch', args: [null], expected: { message: /^a request must be an object/ } },
  { id: 'update/branch-empty-name', surface: 'update', description: 'branch named ""', workflowId: 'project/{project}', update: 'branch', args: [{ name: '' }], expected: { message: /^an environment name must not be empty$/ } },
  { id: 'update/branch-name-number', surface: 'update', description: 'branch named 42 (a number)', workflowId: 'project/{project}', update: 'branch', args: [{ name: 42 }], expected: { message: /^an environment name must be a string$/ } },
  { id: 'update/branch-control-char', surface: 'update', description: 'a name with a newline', workflowId: 'project/{project}', update: 'branch', args: [{ name: 'a\nb' }], expected: { message: /contains a control character/ } },
  { id: 'update/branch-existing', surface: 'update', description: 'branching "integration" again', workflowId: 'project/{project}', update: 'branch', args: [{ name: 'integration' }], expected: { message: /environment integration exists already/ } },
  { id: 'update/branch-from-production', surface: 'update', description: 'branching from production', workflowId: 'project/{project}', update: 'branch', args: [{ name: 'fromprod', parent: 'production' }], expected: { message: /branch from integration or one of its children, not from production/ } },
  { id: 'update/branch-parent-dotdot', surface: 'update', description: 'a parent named "../integration"', workflowId: 'project/{project}', update: 'branch', args: [{ name: 'kid', parent: '../integration' }], expected: { message: /--parent: environment name "\.\.\/integration" contains "\.\."/ } },
  { id: 'update/delete-staging', surface: 'update', description: 'deleting staging', workflowId: 'project/{project}', update: 'delete', args: [{ name: 'staging' }], expected: { message: /staging cannot be deleted/ } },
  { id: 'update/sync-integration', surface: 'update', description: 'syncing integration', workflowId: 'project/{project}', update: 'sync', args: [{ name: 'integration' }], expected: { message: /integration has no parent to be synced with/ } },
  { id: 'update/activate-unknown', surface: 'update', description: 'activating an environment that does not exist', workflowId: 'project/{project}', update: 'activate', args: [{ name: 'ghost' }], expected: { message: /no environment "ghost" in project/ } },
  { id: 'update/activate-prototype-key', surface: 'update', description: 'activating "constructor" (a key every JS object has)', workflowId: 'project/{project}', update: 'activate', args: [{ name: 'constructor' }], expected: { message: /no environment "constructor" in project/ } },
  { id: 'update/promote-unknown-target', surface: 'update', description: 'promoting to "qa"', workflowId: 'project/{project}', update: 'promote', args: [{ target: 'qa', requester: 'alice', release: RELEASE, roster: ROSTER, expiresInMs: 60_000, remindBeforeMs: 0 }], expected: { message: /a promotion goes to staging or production/ } },
  { id: 'update/promote-by-support', surface: 'update', description: 'a support engineer asking for a promotion', workflowId: 'project/{project}', update: 'promote', args: [{ target: 'production', requester: 'sam', release: RELEASE, roster: ROSTER, expiresInMs: 60_000, remindBeforeMs: 0 }], expected: { message: /sam may not ask for promotions/ } },
  { id: 'update/promote-no-roster', surface: 'update', description: 'a promotion request without the roster', workflowId: 'project/{project}', update: 'promote', args: [{ target: 'production', requester: 'alice', release: RELEASE }], expected: { message: /^a promotion request needs/ } },
  { id: 'update/ssh-key-integration', surface: 'update', description: 'an SSH-key ticket for integration', workflowId: 'project/{project}', update: 'requestSshKey', args: [{ environment: 'integration', type: 'ssh-ed25519', key: PUBLIC_KEY, comment: '', fingerprint: 'SHA256:x', requester: 'alice', roster: ROSTER, expiresInMs: 60_000, remindBeforeMs: 0 }], expected: { message: /SSH keys go through a ticket for staging and production only, not "integration"/ } },
  { id: 'update/unknown-update', surface: 'update', description: 'an Update the project does not have', workflowId: 'project/{project}', update: 'dropDatabase', args: [{}], expected: { message: /No registered handler for update: dropDatabase/ } },
  { id: 'update/rollback-null', surface: 'update', description: 'rollback with null arguments', workflowId: 'env/{project}/integration', update: 'rollback', args: [null], expected: { message: /^rollback takes \{to\?: <deployment number>\}/ } },
  { id: 'update/rollback-zero', surface: 'update', description: 'rollback to deployment 0', workflowId: 'env/{project}/integration', update: 'rollback', args: [{ to: 0 }], expected: { message: /--to must be a deployment number/ } },
  { id: 'update/rollback-string', surface: 'update', description: 'rollback to "1; rm -rf /"', workflowId: 'env/{project}/integration', update: 'rollback', args: [{ to: '1; rm -rf /' }], expected: { message: /--to must be a deployment number/ } },
  { id: 'update/rollback-current', surface: 'update', description: 'rollback to the current release', workflowId: 'env/{project}/integration', update: 'rollback', args: [{ to: 1 }], expected: { message: /deployment 1 is the current release already/ } },
  { id: 'update/rollback-no-previous', surface: 'update', description: 'rollback with no previous release', workflowId: 'env/{project}/integration', update: 'rollback', args: [{}], expected: { message: /integration has no previous release to roll back to/ } },
  { id: 'update/redeploy-nothing', surface: 'update', description: 'redeploying staging, which has no release', workflowId: 'env/{project}/staging', update: 'redeploy', args: [], expected: { message: /staging has no deployed release to redeploy/ } },
  { id: 'update/decision-maybe', surface: 'update', description: 'a decision of "maybe"', workflowId: 'ticket/{project}/{ticket}', ticket: 'open', update: 'decision', args: [{ user: 'sam', decision: 'maybe' }], expected: { message: /decision must be "approve" or "reject"/ } },
  { id: 'update/decision-no-user', surface: 'update', description: 'a decision without a user', workflowId: 'ticket/{project}/{ticket}', ticket: 'open', update: 'decision', args: [{ decision: 'approve' }], expected: { message: /user must be a name/ } },
  { id: 'update/decision-developer', surface: 'update', description: 'a developer deciding', workflowId: 'ticket/{project}/{ticket}', ticket: 'open', update: 'decision', args: [{ user: 'bob', decision: 'reject' }], expected: { message: /bob is not in the support role/ } },
  { id: 'update/decision-self', surface: 'update', description: 'the requester deciding', workflowId: 'ticket/{project}/{ticket}', ticket: 'requested-by-sam', update: 'decision', args: [{ user: 'sam', decision: 'reject' }], expected: { message: /sam requested this and cannot decide it/ } },
];

export const SIGNAL_CASES: SignalCase[] = [
  { id: 'signal/decide-unknown-user', surface: 'signal', description: 'a decision by a user nobody knows', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: 'mallory', decision: 'approve', comment: 'signal/decide-unknown-user' }], expected: { recorded: /^unknown user "mallory"$/, message: /refused attempt kept/ } },
  { id: 'signal/decide-developer', surface: 'signal', description: 'a developer approving', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: 'bob', decision: 'approve', comment: 'signal/decide-developer' }], expected: { recorded: /bob is not in the support role/, message: /refused attempt kept/ } },
  { id: 'signal/decide-admin', surface: 'signal', description: 'an admin approving (not support)', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: 'ada', decision: 'approve', comment: 'signal/decide-admin' }], expected: { recorded: /ada is not in the support role/, message: /refused attempt kept/ } },
  { id: 'signal/decide-bad-value', surface: 'signal', description: 'a decision of "yes"', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: 'sam', decision: 'yes', comment: 'signal/decide-bad-value' }], expected: { recorded: /decision must be "approve" or "reject"/, message: /refused attempt kept/ } },
  { id: 'signal/decide-missing-user', surface: 'signal', description: 'a decision with no user', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ decision: 'approve', comment: 'signal/decide-missing-user' }], expected: { recorded: /^user must be a name$/, message: /refused attempt kept/ } },
  { id: 'signal/decide-user-object', surface: 'signal', description: 'a user that is an object', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: { name: 'sam', roles: ['support'] }, decision: 'approve', comment: 'signal/decide-user-object' }], expected: { recorded: /^user must be a name$/, message: /refused attempt kept/ } },
  { id: 'signal/decide-long-comment', surface: 'signal', description: 'a 5000-character comment', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: 'sam', decision: 'approve', comment: `signal/decide-long-comment ${'x'.repeat(5000)}` }], expected: { recorded: /comment must be text of at most 2000 characters/, message: /refused attempt kept/ } },
  { id: 'signal/decide-double-approval', surface: 'signal', description: 'sue approving a second time', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [{ user: 'sue', decision: 'approve', comment: 'signal/decide-double-approval' }], expected: { recorded: /sue has approved already; SUP-\d+ needs 2 distinct approvers/, message: /refused attempt kept/ } },
  { id: 'signal/decide-self-approval', surface: 'signal', description: 'the requester approving', workflowId: 'ticket/{project}/{ticket}', ticket: 'requested-by-sam', signal: 'decide', args: [{ user: 'sam', decision: 'approve', comment: 'signal/decide-self-approval' }], expected: { recorded: /sam requested this and cannot decide it/, message: /refused attempt kept/ } },
  { id: 'signal/decide-null', surface: 'signal', description: 'a decision of null', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [null], expected: { recorded: /a decision must be an object/, message: /refused attempt kept/ } },
  { id: 'signal/decide-no-args', surface: 'signal', description: 'a decision signal with no input', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'decide', args: [], expected: { recorded: /a decision must be an object/, message: /refused attempt kept/ } },
  { id: 'signal/ticket-cancel-null', surface: 'signal', description: 'cancel with null', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'cancel', args: [null], expected: { message: /ignored/ } },
  { id: 'signal/ticket-outcome-number', surface: 'signal', description: 'an outcome that is a number', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'outcome', args: [42], expected: { message: /ignored/ } },
  { id: 'signal/ticket-internal-cancel-null', surface: 'signal', description: 'internal:cancelTicket with null', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'internal:cancelTicket', args: [null], expected: { message: /ignored/ } },
  { id: 'signal/ticket-internal-outcome-number', surface: 'signal', description: 'an internal:ticketOutcome that is a number', workflowId: 'ticket/{project}/{ticket}', ticket: 'signals', signal: 'internal:ticketOutcome', args: [42], expected: { message: /ignored/ } },
  { id: 'signal/branch-pushed-null', surface: 'signal', description: 'branchPushed with null', workflowId: 'project/{project}', signal: 'branchPushed', args: [null], expected: { message: /ignored/ } },
  { id: 'signal/branch-pushed-bad-name', surface: 'signal', description: 'branchPushed for a branch named "../../etc"', workflowId: 'project/{project}', signal: 'branchPushed', args: [{ branch: '../../etc', before: SHA_A, after: SHA_B, pushedAt: 1 }], expected: { message: /ignored/ } },
  { id: 'signal/branch-pushed-number', surface: 'signal', description: 'branchPushed with a number for a branch', workflowId: 'project/{project}', signal: 'branchPushed', args: [{ branch: 7, before: SHA_A, after: SHA_B, pushedAt: 1 }], expected: { message: /ignored/ } },
  { id: 'signal/promotion-closed-null', surface: 'signal', description: 'promotionClosed with null', workflowId: 'project/{project}', signal: 'promotionClosed', args: [null], expected: { message: /ignored/ } },
  { id: 'signal/env-lifecycle-bogus', surface: 'signal', description: 'an environment lifecycle action "explode"', workflowId: 'env/{project}/integration', signal: 'lifecycle', args: ['explode'], expected: { message: /ignored/ } },
  { id: 'signal/env-push-null', surface: 'signal', description: 'an environment push of null', workflowId: 'env/{project}/integration', signal: 'push', args: [null], expected: { message: /ignored/ } },
];

export const GIT_PUSH_CASES: GitPushCase[] = [
  { id: 'git/push-staging', surface: 'git-push', description: 'a push to staging', refspec: 'HEAD:refs/heads/staging', expected: { message: /Slipway: staging is read-only: code arrives only by promotion from integration \(slipway promote \S+ staging\)/ } },
  { id: 'git/push-production', surface: 'git-push', description: 'a push to production', refspec: 'HEAD:refs/heads/production', expected: { message: /Slipway: production is read-only: code arrives only by promotion from staging/ } },
  { id: 'git/push-master', surface: 'git-push', description: 'a push to master', refspec: 'HEAD:refs/heads/master', expected: { message: /Slipway: master \(Global Master\) is read-only/ } },
  { id: 'git/delete-staging', surface: 'git-push', description: 'deleting staging', refspec: ':refs/heads/staging', expected: { message: /Slipway: staging is read-only/ } },
  { id: 'git/delete-integration', surface: 'git-push', description: 'deleting integration', refspec: ':refs/heads/integration', expected: { message: /Slipway: integration cannot be deleted/ } },
  { id: 'git/branch-uppercase', surface: 'git-push', description: 'a branch "Feature"', refspec: 'HEAD:refs/heads/Feature', expected: { message: /Slipway: branch 'Feature' cannot be an environment: use 1 to 40 lowercase letters, digits and '-'/ } },
  { id: 'git/branch-nested', surface: 'git-push', description: 'a branch "feature/login"', refspec: 'HEAD:refs/heads/feature/login', expected: { message: /Slipway: branch 'feature\/login' cannot be an environment/ } },
  { id: 'git/branch-too-long', surface: 'git-push', description: 'a branch of 41 characters', refspec: `HEAD:refs/heads/${LONG_NAME}`, expected: { message: new RegExp(`Slipway: branch '${LONG_NAME}' cannot be an environment`) } },
  { id: 'git/branch-underscore', surface: 'git-push', description: 'a branch "my_feature"', refspec: 'HEAD:refs/heads/my_feature', expected: { message: /Slipway: branch 'my_feature' cannot be an environment/ } },
  { id: 'git/branch-unicode', surface: 'git-push', description: 'a branch "café"', refspec: 'HEAD:refs/heads/café', expected: { message: /Slipway: branch 'café' cannot be an environment/ } },
  { id: 'git/branch-trailing-dash', surface: 'git-push', description: 'a branch "wip-"', refspec: 'HEAD:refs/heads/wip-', expected: { message: /Slipway: branch 'wip-' cannot be an environment/ } },
  { id: 'git/branch-leading-dash', surface: 'git-push', description: 'a branch "-rf"', refspec: 'HEAD:refs/heads/-rf', expected: { message: /Slipway: branch '-rf' cannot be an environment/ } },
  { id: 'git/mixed-push', surface: 'git-push', description: 'a push of a valid branch together with staging: all of it is refused', refspec: 'HEAD:refs/heads/okay-branch HEAD:refs/heads/staging', expected: { message: /Slipway: staging is read-only/ } },
  { id: 'git/tag', surface: 'git-push', description: 'a tag "v1"', refspec: 'HEAD:refs/tags/v1', expected: { message: /Slipway: refs\/tags\/v1 refused: the remote accepts only branches \(refs\/heads\/\*\)/ } },
  { id: 'git/notes', surface: 'git-push', description: 'notes (refs/notes/commits)', refspec: 'HEAD:refs/notes/commits', expected: { message: /Slipway: refs\/notes\/commits refused: the remote accepts only branches/ } },
  { id: 'git/other-ref', surface: 'git-push', description: 'a ref outside refs/heads (refs/pull/1/head)', refspec: 'HEAD:refs/pull/1/head', expected: { message: /Slipway: refs\/pull\/1\/head refused: the remote accepts only branches/ } },
  { id: 'git/remote-tracking-ref', surface: 'git-push', description: 'a remote-tracking ref (refs/remotes/origin/integration)', refspec: 'HEAD:refs/remotes/origin/integration', expected: { message: /Slipway: refs\/remotes\/origin\/integration refused: the remote accepts only branches/ } },
  { id: 'git/branch-with-tag', surface: 'git-push', description: 'a valid branch together with a tag: all of it is refused', refspec: 'HEAD:refs/heads/tagged-branch HEAD:refs/tags/release-1', expected: { message: /Slipway: refs\/tags\/release-1 refused: the remote accepts only branches/ } },
];

export const HOSTILE_CASES: HostileCase[] = [
  ...CLI_CASES,
  ...API_CASES,
  ...UPDATE_CASES,
  ...SIGNAL_CASES,
  ...GIT_PUSH_CASES,
  ...PROJECT_FILE_CASES,
];
