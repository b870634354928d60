/** `crons:` of .magento.app.yaml: the Magento Cloud form and Platform.sh's, and every refusal naming the key. */
import { strict as assert } from 'node:assert';
import { ScheduleNotFoundError } from '@temporalio/client';
import { schedulesOf } from '../../src/client-lib/crons';
import type { ConfigIssue } from '../../src/domain/app-config';
import { cronSchedulePrefix } from '../../src/domain/crons';
import { cronSpecProblem, parseCrons } from '../../src/domain/project-files/crons';

describe('crons in .magento.app.yaml', function () {
  it('reads spec and cmd (or commands.start) and an optional timeout', function () {
    const issues: ConfigIssue[] = [];
    const crons = parseCrons(
      {
        cronrun: { spec: '*/5  * * * *', cmd: 'php bin/magento cron:run' },
        sitemap: { spec: '0 3 * * mon-fri', commands: { start: 'php sitemap.php' }, timeout: 600 },
      },
      '.magento.app.yaml',
      issues,
    );
    assert.deepEqual(issues, []);
    assert.deepEqual(crons, {
      cronrun: { spec: '*/5 * * * *', cmd: 'php bin/magento cron:run' },
      sitemap: { spec: '0 3 * * mon-fri', cmd: 'php sitemap.php', timeoutSeconds: 600 },
    });
  });

  it('refuses what the scheduler cannot run or a shell cannot take, naming the key', function () {
    const cases: Array<[string, unknown, RegExp]> = [
      ['bad name!', { spec: '* * * * *', cmd: 'true' }, /^crons\.bad name!: a cron name is/],
      ['hashed', { spec: 'H * * * *', cmd: 'true' }, /^crons\.hashed\.spec: .*hashed form H is not supported/],
      ['six', { spec: '0 * * * * *', cmd: 'true' }, /^crons\.six\.spec: .* has 6 fields; a cron spec has five/],
      ['minute', { spec: '60 * * * *', cmd: 'true' }, /^crons\.minute\.spec: minute "60": 60 is outside 0-59/],
      ['month', { spec: '0 0 1 foo *', cmd: 'true' }, /^crons\.month\.spec: month "foo": "foo" is not a number or a name/],
      ['step', { spec: '*/0 * * * *', cmd: 'true' }, /^crons\.step\.spec: minute "\*\/0": a step must be at least 1/],
      ['nocmd', { spec: '* * * * *' }, /^crons\.nocmd\.cmd: must be the shell command to run/],
      ['notmap', 'php cron.php', /^crons\.notmap: must be a map with spec and cmd/],
      ['timeout', { spec: '* * * * *', cmd: 'true', timeout: 'soon' }, /^crons\.timeout\.timeout: must be a number of seconds/],
    ];
    for (const [name, entry, why] of cases) {
      const issues: ConfigIssue[] = [];
      assert.deepEqual(parseCrons({ [name]: entry }, '.magento.app.yaml', issues), {});
      assert.equal(issues.length, 1, name);
      assert.match(`${issues[0]!.path}: ${issues[0]!.reason}`, why);
    }
    assert.equal(cronSpecProblem('0,30 8-18 * jan-dec 1-5'), undefined);
  });
});

describe("an environment's Schedules as the client lists them", function () {
  it('skips a Schedule that visibility still lists but that was deleted a moment ago', async function () {
    const prefix = cronSchedulePrefix('shop', 'integration');
    const listed = [`${prefix}gone`, `${prefix}kept`, `${cronSchedulePrefix('shop', 'feature')}other`];
    const fake = {
      list: () => listed.map((scheduleId) => ({ scheduleId })),
      getHandle(scheduleId: string) {
        return {
          describe: () => (scheduleId.endsWith('gone') ? Promise.reject(new ScheduleNotFoundError('schedule not found', scheduleId)) : Promise.resolve({ scheduleId })),
        };
      },
    };
    const found = await schedulesOf(fake as never, 'shop', 'integration');
    assert.deepEqual([...found.keys()], ['kept']);
  });
});
