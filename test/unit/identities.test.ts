/** identities.yaml: roles per project, "*", admin global, the older roles form; bad shapes named by user and key. */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { accessRefusal, rolesOn } from '../../src/domain/access';
import { PACKAGE_ROOT } from '../../src/home';
import { loadIdentitiesFile, parseIdentities, projectRoster } from '../../src/identities';

const parse = (users: unknown): ReturnType<typeof parseIdentities> => parseIdentities({ users }, 'identities.yaml');
const refused = (users: unknown): string => {
  try {
    parse(users);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(users)}`);
};

describe('identities', function () {
  it('grants roles per project, "*" for every project, admin globally', function () {
    const ids = parse({
      bob: { projects: { shop: ['developer'] } },
      sid: { projects: { shop: ['support'], '*': ['developer'] } },
      ada: { admin: true },
    });
    assert.deepEqual(rolesOn(ids.users.get('bob')!, 'shop'), ['developer']);
    assert.deepEqual(rolesOn(ids.users.get('bob')!, 'blog'), []);
    assert.deepEqual(rolesOn(ids.users.get('sid')!, 'shop'), ['developer', 'support']);
    assert.deepEqual(rolesOn(ids.users.get('sid')!, 'blog'), ['developer']);
    assert.deepEqual(rolesOn(ids.users.get('ada')!, 'anything'), ['admin']);
    // The roster a project's workflows get: every user, with the roles they hold there.
    assert.deepEqual(projectRoster(ids, 'blog'), [
      { user: 'bob', roles: [] },
      { user: 'sid', roles: ['developer'] },
      { user: 'ada', roles: ['admin'] },
    ]);
  });

  it('reads the older roles form as the same roles on every project', function () {
    const ids = parse({ alice: { roles: ['developer'] }, ada: { roles: ['admin', 'developer'] } });
    assert.deepEqual(ids.users.get('alice'), { admin: false, projects: { '*': ['developer'] } });
    assert.deepEqual(ids.users.get('ada'), { admin: true, projects: { '*': ['developer'] } });
  });

  it('says who may not do what, naming the user, the role and the project', function () {
    const ids = parse({ bob: { projects: { shop: ['developer'] } }, sam: { projects: { '*': ['support'] } }, ada: { admin: true } });
    const bob = ids.users.get('bob')!;
    assert.equal(accessRefusal('bob', bob, 'developer', 'shop'), undefined);
    assert.equal(accessRefusal('bob', bob, 'read', 'blog'), 'bob needs the role developer, support or admin on project blog for this');
    assert.equal(accessRefusal('bob', bob, 'developer', 'blog'), 'bob needs the role developer or admin on project blog for this');
    assert.equal(accessRefusal('bob', bob, 'support', 'shop'), 'bob needs the role support on project shop for this');
    assert.equal(accessRefusal('bob', bob, 'admin'), 'bob needs the role admin for this');
    assert.equal(accessRefusal('sam', ids.users.get('sam')!, 'support', 'blog'), undefined);
    assert.equal(accessRefusal('sam', ids.users.get('sam')!, 'developer', 'blog'), 'sam needs the role developer or admin on project blog for this');
    assert.equal(accessRefusal('ada', ids.users.get('ada')!, 'developer', 'blog'), undefined);
    assert.equal(accessRefusal('ada', ids.users.get('ada')!, 'admin'), undefined);
    assert.equal(accessRefusal('ada', ids.users.get('ada')!, 'support', 'blog'), 'ada needs the role support on project blog for this');
  });

  it('names the user and the key of every bad shape', function () {
    const cases: Array<[unknown, RegExp]> = [
      [{ bob: { projects: { Shop: ['developer'] } } }, /users\.bob\.projects\.Shop: project id must be 3 to 40 characters/],
      [{ bob: { projects: { shop: ['admin'] } } }, /users\.bob\.projects\.shop\.0: admin is global, not per project: set `admin: true` on the user/],
      [{ bob: { projects: { shop: ['dev'] } } }, /users\.bob\.projects\.shop\.0: must be a role of a project: developer or support/],
      [{ bob: { projects: { shop: [] } } }, /users\.bob\.projects\.shop: must name at least one role/],
      [{ bob: { projects: { shop: 'developer' } } }, /users\.bob\.projects\.shop: must be a list of roles/],
      [{ bob: { projects: ['shop'] } }, /users\.bob\.projects: must map project ids \(or "\*"\) to lists of roles/],
      [{ bob: { projets: { shop: ['developer'] } } }, /users\.bob\.projets: unknown key/],
      [{ bob: {} }, /users\.bob: grants nothing: set admin: true, or roles under projects/],
      [{ bob: { roles: ['developer'], projects: { shop: ['developer'] } } }, /users\.bob\.roles: give either projects .* or roles .*, not both/],
      [{ bob: { roles: ['root'] } }, /users\.bob\.roles\.0: must be developer, support, admin/],
      [{ bob: { admin: 'yes' } }, /users\.bob\.admin: must be true or false/],
      [{ bob: { admin: true, token_sha256: 'abc' } }, /users\.bob\.token_sha256: must be the hex SHA-256 of the API token/],
      [{ bob: 'developer' }, /users\.bob: must be a map/],
      [{ Bob: { admin: true } }, /users\.Bob: user names are lowercase/],
      [['bob'], /users: must map user names to what they are granted/],
    ];
    for (const [users, message] of cases) assert.match(refused(users), message, JSON.stringify(users));
    assert.match(refused({ bob: {} }), /^invalid identities file identities\.yaml: /);
  });

  it('the sample: bob is a developer of shop only; alice of every project; ada an admin', function () {
    const ids = loadIdentitiesFile(path.join(PACKAGE_ROOT, 'examples', 'identities.yaml'));
    assert.deepEqual(rolesOn(ids.users.get('bob')!, 'shop'), ['developer']);
    assert.deepEqual(rolesOn(ids.users.get('bob')!, 'blog'), []);
    assert.deepEqual(rolesOn(ids.users.get('alice')!, 'blog'), ['developer']);
    assert.deepEqual(rolesOn(ids.users.get('sam')!, 'blog'), ['support']);
    assert.deepEqual(rolesOn(ids.users.get('ada')!, 'blog'), ['admin']);
    assert.equal(ids.tokens.size, 5);
  });
});
