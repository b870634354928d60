/** registration.php read without running PHP: Magento's forms accepted, anything else refused with a reason. */
import { strict as assert } from 'node:assert';
import { readComponentRegistrations } from '../../src/domain/php-registration';

const read = (source: string) => readComponentRegistrations(source);

describe('registration.php', function () {
  it("reads a vendor theme's registration, as magento/theme-frontend-blank writes it", function () {
    const source = [
      '<?php',
      '/**',
      ' * Copyright © Magento, Inc. All rights reserved.',
      ' */',
      'use \\Magento\\Framework\\Component\\ComponentRegistrar;',
      '',
      "ComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/Magento/blank', __DIR__);",
    ].join('\n');
    assert.deepEqual(read(source), { ok: true, value: [{ type: 'theme', name: 'frontend/Magento/blank', subdir: '' }] });
  });

  it('reads fully qualified calls, aliases, string types, sub-directories and several calls', function () {
    const source = [
      '<?php',
      'namespace Acme\\Theme;',
      'use Magento\\Framework\\Component\\ComponentRegistrar as Registrar;',
      "Registrar::register(Registrar::MODULE, 'Acme_Theme', __DIR__);",
      "\\Magento\\Framework\\Component\\ComponentRegistrar::register('theme', \"adminhtml/Acme/backend\", __DIR__ . '/view/' . 'backend');",
      "if (true) { echo 'ignored'; }",
    ].join('\n');
    assert.deepEqual(read(source), {
      ok: true,
      value: [
        { type: 'module', name: 'Acme_Theme', subdir: '' },
        { type: 'theme', name: 'adminhtml/Acme/backend', subdir: 'view/backend' },
      ],
    });
  });

  it('ignores calls of other classes', function () {
    assert.deepEqual(read("<?php\nOther::register(Other::THEME, 'frontend/A/b', __DIR__);"), { ok: true, value: [] });
  });

  it('refuses what would need PHP to run, or would leave the package, with a reason and a line', function () {
    const cases: [string, RegExp][] = [
      ["<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::THEME, $name, __DIR__);", /component name must be a literal string/],
      ["<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/A/b', dirname(__DIR__));", /must be __DIR__/],
      ["<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/A/b', __DIR__ . '/../../etc');", /must stay inside the package/],
      ["<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/A/b', '/etc');", /must start with __DIR__/],
      ["<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(constant('X'), 'frontend/A/b', __DIR__);", /component type must be/],
    ];
    for (const [source, reason] of cases) {
      const r = read(source);
      assert.ok(!r.ok, source);
      if (!r.ok) {
        assert.match(r.reason, reason);
        assert.equal(r.line, 3, source);
      }
    }
    const broken = read("<?php\nComponentRegistrar::register(");
    assert.ok(!broken.ok && /not valid PHP/.test(broken.reason));
  });

  it('bounds hostile input before parsing it', function () {
    const deep = read(`<?php\n$x = ${'['.repeat(100_000)}${']'.repeat(100_000)};`);
    assert.deepEqual(deep, { ok: false, reason: 'larger than 64 KiB: no registration.php is' });
    // php-parser loops forever on this one unless its trailing whitespace is cut.
    assert.equal(read('<?php\n#[x  \n\n').ok, false);
    // A long operator chain overflows php-parser's stack: refused, not a crash.
    assert.equal(read(`<?php\n$x = 1${' . 1'.repeat(12_000)};`).ok, false);
    const nested = read(`<?php\n$x = ${'['.repeat(1000)}${']'.repeat(1000)};`);
    assert.deepEqual(nested, { ok: false, reason: 'nested too deeply to be a registration.php' });
  });
});
