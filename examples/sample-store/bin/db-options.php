<?php
/**
 * Writes the mysql client's options for the `database` relationship of
 * MAGENTO_CLOUD_RELATIONSHIPS to a new file in the temporary directory (/tmp), mode 0600:
 *
 *   [client]
 *   host=… port=… protocol=TCP user=… password=… database=…
 *
 * and prints that file's path, nothing else (never the password): the client reads it with
 * --defaults-file, so the password is on no command line. Exit 3 when there is no database
 * relationship (nothing written), 1 when the relationship cannot be read.
 */

declare(strict_types=1);

require __DIR__ . '/../src/bootstrap.php';

use Luma\Store\Env;

/** An option file value: quoted, with \ and " escaped; a line break cannot be written. */
function option(string $name, string $value): string
{
    if (preg_match('/[\r\n\0]/', $value) === 1) {
        throw new UnexpectedValueException("the database relationship's $name holds a line break");
    }
    return $name . '="' . addcslashes($value, '\\"') . "\"\n";
}

try {
    $endpoint = Env::relationship('database');
    if ($endpoint === null) {
        exit(3);
    }
    $options = "[client]\n"
        . option('host', Env::host($endpoint))
        . option('port', (string) Env::port($endpoint, 3306))
        . option('protocol', 'TCP') // even for a host named localhost (the client would take a socket)
        . option('user', (string) ($endpoint['username'] ?? ''))
        . option('password', (string) ($endpoint['password'] ?? ''))
        . option('database', (string) ($endpoint['path'] ?? ''));
    umask(0077);
    $file = tempnam(sys_get_temp_dir(), 'store-db-');
    if ($file === false) {
        throw new RuntimeException('cannot create a file in ' . sys_get_temp_dir());
    }
    chmod($file, 0600);
    if (file_put_contents($file, $options) !== strlen($options)) {
        unlink($file);
        throw new RuntimeException("cannot write $file");
    }
    echo $file, "\n";
} catch (Throwable $e) {
    fwrite(STDERR, 'db-options: ' . $e->getMessage() . "\n");
    exit(1);
}
