<?php
/**
 * The store's front controller: every request nginx does not serve from pub/ itself comes
 * here (passthru). The code is in ../src, outside the web root. From the command line
 * (php pub/index.php), the request is REQUEST_METHOD and REQUEST_URI of the environment.
 */

declare(strict_types=1);

ini_set('display_errors', '0');

// php -S 127.0.0.1:8080 -t pub pub/index.php: the files of pub/ are served as they are, and a
// directory by its index.html, as nginx does.
if (PHP_SAPI === 'cli-server') {
    $file = __DIR__ . (string) parse_url((string) ($_SERVER['REQUEST_URI'] ?? '/'), PHP_URL_PATH);
    if ($file !== __FILE__ && is_file($file)) {
        return false;
    }
    if (is_dir($file) && is_file("$file/index.html")) {
        header('Content-Type: text/html; charset=utf-8');
        readfile("$file/index.html");
        return true;
    }
}

// A fatal error (out of memory…) still gets a generic page, never PHP's message.
register_shutdown_function(static function (): void {
    $error = error_get_last();
    if ($error !== null && ($error['type'] & (E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR)) !== 0 && !headers_sent() && PHP_SAPI !== 'cli') {
        http_response_code(500);
        header('Content-Type: text/plain; charset=utf-8');
        echo "The store could not answer this request. The error is logged.\n";
    }
});

require __DIR__ . '/../src/bootstrap.php';

use Luma\Store\App;
use Luma\Store\Log;
use Luma\Store\Request;

try {
    $request = Request::fromGlobals();
    $response = (new App())->handle($request);
} catch (\Throwable $e) {
    Log::error('unhandled error on ' . ($_SERVER['REQUEST_METHOD'] ?? '?') . ' ' . ($_SERVER['REQUEST_URI'] ?? '?'), $e);
    $request = null;
    $response = App::failure();
}
$response->send($request === null || $request->method !== 'HEAD');
