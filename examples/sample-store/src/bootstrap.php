<?php
/**
 * Loads the store's classes and makes PHP's own warnings exceptions (handled, logged, never
 * shown): shared by pub/index.php and the scripts under bin/.
 */

declare(strict_types=1);

ini_set('display_errors', '0');
ini_set('log_errors', '1');
error_reporting(E_ALL);

set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if ((error_reporting() & $severity) === 0) {
        return false;
    }
    throw new \ErrorException($message, 0, $severity, $file, $line);
});

require_once __DIR__ . '/Env.php';
require_once __DIR__ . '/Http.php';
require_once __DIR__ . '/Catalog.php';
require_once __DIR__ . '/Cache.php';
require_once __DIR__ . '/Views.php';
require_once __DIR__ . '/App.php';
