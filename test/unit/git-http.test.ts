/** The Git endpoint's path rules and credentials, without a server (the e2e test sends them for real). */
import { strict as assert } from 'node:assert';
import { basicCredentials } from '../../src/api/git-http';
import { gitHttpRemote, parseGitHttpPath } from '../../src/domain/git-http';

describe('Git smart HTTP paths', function () {
  it('takes the three endpoints of a valid project, with what each needs', function () {
    assert.deepEqual(parseGitHttpPath('GET', '/git/shop.git/info/refs?service=git-upload-pack'), {
      project: 'shop',
      rest: 'info/refs',
      service: 'git-upload-pack',
      need: 'read',
    });
    assert.equal(parseGitHttpPath('GET', '/git/shop.git/info/refs?service=git-receive-pack')?.need, 'developer');
    assert.equal(parseGitHttpPath('POST', '/git/shop.git/git-receive-pack')?.need, 'developer');
    assert.equal(parseGitHttpPath('POST', '/git/shop.git/git-upload-pack')?.need, 'read');
  });

  it('refuses everything else', function () {
    for (const [method, url] of [
      ['GET', '/git/shop.git/info/refs'],
      ['GET', '/git/shop.git/info/refs?service=git-upload-archive'],
      ['POST', '/git/shop.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/shop.git/git-upload-pack'],
      ['GET', '/git/shop.git/HEAD'],
      ['GET', '/git/shop.git/objects/info/packs'],
      ['GET', '/git/../shop.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/shop.git/../blog.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/%2e%2e/shop.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/shop%2Egit/info/refs?service=git-upload-pack'],
      ['GET', '/git/Shop.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/ab.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/-shop.git/info/refs?service=git-upload-pack'],
      ['GET', '/git/shop.git/info/refs/?service=git-upload-pack'],
      ['GET', '/git/shop/info/refs?service=git-upload-pack'],
      ['GET', '//git/shop.git/info/refs?service=git-upload-pack'],
    ] as const) {
      assert.equal(parseGitHttpPath(method, url), undefined, `${method} ${url}`);
    }
  });

  it('reads Basic credentials and builds the HTTP remote', function () {
    const header = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(basicCredentials(header('alice:tok:en')), { user: 'alice', password: 'tok:en' });
    assert.deepEqual(basicCredentials(header(':token')), { user: '', password: 'token' });
    assert.equal(basicCredentials(header('no-colon')), undefined);
    assert.equal(basicCredentials('Bearer token'), undefined);
    assert.equal(basicCredentials(undefined), undefined);
    assert.equal(gitHttpRemote('http://api:8081/', 'shop'), 'http://api:8081/git/shop.git');
  });
});
