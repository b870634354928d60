/** What Slipway reads from app/etc/config.php, and how it reports a file it cannot use. */
import { strict as assert } from 'node:assert';
import type { ConfigIssue } from '../../src/domain/app-config';
import { CONFIG_PHP, type MagentoConfig, parseMagentoConfig } from '../../src/domain/magento-config';

/** A config.php as `bin/magento app:config:dump` writes it. */
const FULL = `<?php
return [
    'modules' => [
        'Magento_Store' => 1,
        'Magento_Theme' => 1,
        'Magento_Analytics' => 0,
    ],
    'scopes' => [
        'websites' => [
            'base' => [
                'website_id' => '1',
                'code' => 'base',
                'name' => 'Main Website',
                'sort_order' => '0',
                'default_group_id' => '1',
                'is_default' => '1',
            ],
        ],
        'groups' => [
            1 => [
                'group_id' => '1',
                'website_id' => '1',
                'name' => 'Main Website Store',
                'root_category_id' => '2',
                'default_store_id' => '1',
                'code' => 'main_website_store',
            ],
        ],
        'stores' => [
            'default' => [
                'store_id' => '1',
                'code' => 'default',
                'website_id' => '1',
                'group_id' => '1',
                'name' => 'English',
                'sort_order' => '0',
                'is_active' => '1',
            ],
            'fr' => [
                'store_id' => '2',
                'code' => 'fr',
                'website_id' => '1',
                'group_id' => '1',
                'name' => 'Français',
                'sort_order' => '1',
                'is_active' => '1',
            ],
        ],
    ],
    'themes' => [
        'frontend/Luma/storefront' => [
            'parent_id' => null,
            'theme_path' => 'Luma/storefront',
            'theme_title' => 'Luma Storefront',
            'is_featured' => '0',
            'area' => 'frontend',
            'type' => '0',
            'code' => 'Luma/storefront',
        ],
        'frontend/Luma/child' => [
            'parent_id' => 'Luma/storefront',
            'theme_path' => 'Luma/child',
            'theme_title' => 'Luma Child',
            'is_featured' => '0',
            'area' => 'frontend',
            'type' => '0',
            'code' => 'Luma/child',
        ],
    ],
    'system' => [
        'default' => [
            'general' => ['locale' => ['code' => 'en_US', 'timezone' => 'Europe/Paris']],
            'dev' => ['static' => ['sign' => '1']],
        ],
        'stores' => [
            'fr' => ['general' => ['locale' => ['code' => 'fr_FR']]],
        ],
    ],
    'i18n' => [],
];
`;

function config(source: string): MagentoConfig {
  const parsed = parseMagentoConfig(source);
  if (!parsed.ok) return assert.fail(`unexpected issues: ${JSON.stringify(parsed.issues)}`);
  return parsed.value;
}

function issues(source: string): ConfigIssue[] {
  const parsed = parseMagentoConfig(source);
  if (parsed.ok) return assert.fail('expected issues');
  return parsed.issues;
}

const issue = (path: string, reason: string): ConfigIssue => ({ file: CONFIG_PHP, path, reason });
const php = (body: string): string => `<?php\nreturn ${body};\n`;

describe('app/etc/config.php', function () {
  it('is named as Magento names it', function () {
    assert.equal(CONFIG_PHP, 'app/etc/config.php');
  });

  it('gives websites, stores, themes, locales and modules of a dumped config', function () {
    assert.deepEqual(config(FULL), {
      websites: ['base'],
      stores: ['default', 'fr'],
      hasScopes: true,
      themes: [
        { area: 'frontend', vendor: 'Luma', name: 'storefront' },
        { area: 'frontend', vendor: 'Luma', name: 'child', parent: 'Luma/storefront' },
      ],
      locales: ['en_US', 'fr_FR'],
      modules: { Magento_Store: 1, Magento_Theme: 1, Magento_Analytics: 0 },
    });
  });

  it('leaves out "parent" of a theme without one', function () {
    const [theme] = config(FULL).themes;
    assert.ok(theme && !('parent' in theme));
  });

  it('has no scopes when scopes declares no website or store', function () {
    const value = config(php("['modules' => ['Magento_Store' => 1], 'scopes' => ['websites' => [], 'groups' => [], 'stores' => []]]"));
    assert.deepEqual(value, { websites: [], stores: [], hasScopes: false, themes: [], locales: ['en_US'], modules: { Magento_Store: 1 } });
  });

  it('has scopes with a single store', function () {
    const value = config(php("['scopes' => ['stores' => ['admin' => ['code' => 'admin']]]]"));
    assert.deepEqual([value.websites, value.stores, value.hasScopes], [[], ['admin'], true]);
  });

  it('takes every section as optional: an empty array gives the defaults', function () {
    assert.deepEqual(config('<?php return [];'), { websites: [], stores: [], hasScopes: false, themes: [], locales: ['en_US'], modules: {} });
    assert.deepEqual(config(php("['scopes' => [], 'themes' => [], 'system' => [], 'modules' => []]")).locales, ['en_US']);
  });

  it('collects locales from default, websites and stores, sorted and unique', function () {
    const value = config(
      php(`[
        'system' => [
          'default' => ['general' => ['locale' => ['code' => 'de_DE']]],
          'websites' => ['base' => ['general' => ['locale' => ['code' => 'zh_Hans_CN']]], 'b2b' => ['general' => []]],
          'stores' => ['fr' => ['general' => ['locale' => ['code' => 'fr_FR']]], 'be' => ['general' => ['locale' => ['code' => 'fr_FR']]],
                       'de' => ['web' => ['secure' => ['use_in_frontend' => '1']]]],
        ],
      ]`),
    );
    assert.deepEqual(value.locales, ['de_DE', 'fr_FR', 'zh_Hans_CN']);
  });

  it('adds en_US when the default scope names no locale', function () {
    const value = config(php("['system' => ['stores' => ['fr' => ['general' => ['locale' => ['code' => 'fr_FR']]]]]]"));
    assert.deepEqual(value.locales, ['en_US', 'fr_FR']);
  });

  it('reads array() syntax, declare and comments too', function () {
    const value = config(`<?php
declare(strict_types=1);
// dumped by hand
return array(
    'modules' => array('Magento_Store' => 1), # one
    'themes' => array('adminhtml/Magento/backend' => array('parent_id' => NULL, 'area' => 'adminhtml', 'theme_path' => 'Magento/backend')),
);
`);
    assert.deepEqual(value.modules, { Magento_Store: 1 });
    assert.deepEqual(value.themes, [{ area: 'adminhtml', vendor: 'Magento', name: 'backend' }]);
  });

  it('ignores sections and keys it does not know', function () {
    const value = config(php("['admin_user' => ['locale' => ['code' => 'whatever']], 'modules' => ['A_B' => 1], 'x' => 'y']"));
    assert.deepEqual(value.modules, { A_B: 1 });
  });

  describe('refuses', function () {
    it('a PHP syntax error, as one issue with its line and column', function () {
      const source = "<?php\nreturn [\n    'modules' => ['Magento_Theme'\n                'Magento_Store' => 1],\n];";
      assert.deepEqual(issues(source), [
        issue('', 'line 4, column 17: expected "=>" or "," after array element, found "Magento_Store"'),
      ]);
    });

    it('a file that returns no array', function () {
      assert.deepEqual(issues('<?php\n'), [
        issue('', 'line 2, column 1: the file must return an array literal (return [...]; or return array(...);)'),
      ]);
    });

    it('a top level that is a list', function () {
      assert.deepEqual(issues(php("['modules', 'scopes']")), [
        issue('', 'must return an array keyed by section ("modules", "scopes", "themes", "system"), not a list'),
      ]);
    });

    it('module flags other than 0 and 1', function () {
      assert.deepEqual(issues(php("['modules' => ['Magento_Store' => 2, 'Magento_Theme' => '1', 'Magento_Cms' => true]]")), [
        issue('modules.Magento_Store', 'must be 0 (disabled) or 1 (enabled)'),
        issue('modules.Magento_Theme', 'must be 0 (disabled) or 1 (enabled)'),
        issue('modules.Magento_Cms', 'must be 0 (disabled) or 1 (enabled)'),
      ]);
    });

    it('modules that is not an array', function () {
      assert.deepEqual(issues(php("['modules' => 'Magento_Store']")), [issue('modules', 'must be an array of module flags, keyed by name')]);
    });

    it('scopes.websites that is not an array', function () {
      assert.deepEqual(issues(php("['scopes' => ['websites' => 'base']]")), [issue('scopes.websites', 'must be an array of websites, keyed by name')]);
    });

    it('a store that is not an array', function () {
      assert.deepEqual(issues(php("['scopes' => ['stores' => ['default' => 'English', 'fr' => ['fr']]]]")), [
        issue('scopes.stores.default', 'must be an array of store settings, keyed by name'),
        issue('scopes.stores.fr', 'must be an array of store settings, keyed by name'),
      ]);
    });

    it('a theme key that is not <area>/<Vendor>/<name>', function () {
      assert.deepEqual(issues(php("['themes' => ['Luma/storefront' => ['area' => 'frontend'], 'frontend/a/b/c' => []]]")), [
        issue('themes.Luma/storefront', 'the key must be "<area>/<Vendor>/<name>", such as "frontend/Magento/luma"'),
        issue('themes.frontend/a/b/c', 'the key must be "<area>/<Vendor>/<name>", such as "frontend/Magento/luma"'),
      ]);
    });

    it('a theme whose area or theme_path disagrees with its key', function () {
      assert.deepEqual(issues(php("['themes' => ['frontend/Luma/child' => ['area' => 'adminhtml', 'theme_path' => 'Luma/other']]]")), [
        issue('themes.frontend/Luma/child.area', 'is "adminhtml" but the key says "frontend"'),
        issue('themes.frontend/Luma/child.theme_path', 'is "Luma/other" but the key says "Luma/child"'),
      ]);
    });

    it('a parent_id that is neither null nor Vendor/name', function () {
      assert.deepEqual(issues(php("['themes' => ['frontend/Luma/child' => ['parent_id' => 'storefront'], 'frontend/Luma/x' => ['parent_id' => 3]]]")), [
        issue('themes.frontend/Luma/child.parent_id', 'must be null or the parent theme as "Vendor/name"'),
        issue('themes.frontend/Luma/x.parent_id', 'must be null or the parent theme as "Vendor/name"'),
      ]);
    });

    it('locale codes that are not ll_CC', function () {
      const source = php(`[
        'system' => [
          'default' => ['general' => ['locale' => ['code' => 'english']]],
          'websites' => ['base' => ['general' => ['locale' => ['code' => 'en-US']]]],
          'stores' => ['fr' => ['general' => ['locale' => ['code' => 5]]]],
        ],
      ]`);
      assert.deepEqual(issues(source), [
        issue('system.default.general.locale.code', 'must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN"'),
        issue('system.websites.base.general.locale.code', 'must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN"'),
        issue('system.stores.fr.general.locale.code', 'must be a locale code such as "en_US" (a string)'),
      ]);
    });

    it('a section that is a list where named settings belong', function () {
      assert.deepEqual(issues(php("['scopes' => ['websites'], 'system' => ['default' => ['general' => 'x']]]")), [
        issue('scopes', 'must be an array of scope sections, keyed by name'),
        issue('system.default.general', 'must be an array of general settings, keyed by name'),
      ]);
    });

    it('reporting every problem at once, the schema\'s and the theme keys\'', function () {
      assert.deepEqual(issues(php("['modules' => ['A_B' => 9], 'themes' => ['bad' => []]]")), [
        issue('modules.A_B', 'must be 0 (disabled) or 1 (enabled)'),
        issue('themes.bad', 'the key must be "<area>/<Vendor>/<name>", such as "frontend/Magento/luma"'),
      ]);
    });
  });
});
