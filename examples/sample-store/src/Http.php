<?php
/**
 * A request and a response, from PHP-FPM (or php -S) or from the command line: there the
 * request comes from REQUEST_METHOD and REQUEST_URI in the environment (and, for a POST,
 * SLIPWAY_TEST_POST, a URL-encoded body read in CLI mode only), and the response is printed
 * as an HTTP head, an empty line and the body.
 */

declare(strict_types=1);

namespace Luma\Store;

final class Request
{
    /** @param array<string, mixed> $form */
    public function __construct(public readonly string $method, public readonly string $path, public readonly array $form = [])
    {
    }

    public static function fromGlobals(): self
    {
        $cli = PHP_SAPI === 'cli';
        $method = strtoupper((string) (($cli ? Env::get('REQUEST_METHOD') : ($_SERVER['REQUEST_METHOD'] ?? null)) ?? 'GET'));
        $uri = (string) (($cli ? Env::get('REQUEST_URI') : ($_SERVER['REQUEST_URI'] ?? null)) ?? '/');
        $path = parse_url($uri, PHP_URL_PATH);
        $path = is_string($path) && $path !== '' ? $path : '/';
        if ($path !== '/') {
            $path = rtrim($path, '/');
        }
        $form = [];
        if ($method === 'POST') {
            if ($cli) {
                parse_str(Env::get('SLIPWAY_TEST_POST') ?? '', $form);
            } else {
                $form = $_POST;
            }
        }
        return new self($method, $path === '' ? '/' : $path, $form);
    }

    /** A form field as a string ('' when absent or not a string). */
    public function field(string $name): string
    {
        $value = $this->form[$name] ?? '';
        return is_string($value) ? $value : '';
    }
}

final class Response
{
    private const REASONS = [
        200 => 'OK', 303 => 'See Other', 400 => 'Bad Request', 404 => 'Not Found', 405 => 'Method Not Allowed',
        409 => 'Conflict', 500 => 'Internal Server Error', 503 => 'Service Unavailable',
    ];

    /** @param array<string, string> $headers */
    public function __construct(public readonly int $status, public readonly string $body, public readonly array $headers = [])
    {
    }

    public static function html(int $status, string $body, array $headers = []): self
    {
        return new self($status, $body, ['Content-Type' => 'text/html; charset=utf-8'] + $headers);
    }

    public static function text(int $status, string $body, array $headers = []): self
    {
        return new self($status, $body, ['Content-Type' => 'text/plain; charset=utf-8'] + $headers);
    }

    public function with(string $header, string $value): self
    {
        return new self($this->status, $this->body, [$header => $value] + $this->headers);
    }

    public function send(bool $withBody = true): void
    {
        $headers = $this->headers + ['X-Content-Type-Options' => 'nosniff', 'Cache-Control' => 'no-store'];
        if (PHP_SAPI === 'cli') {
            echo 'HTTP/1.1 ', $this->status, ' ', self::REASONS[$this->status] ?? '', "\n";
            foreach ($headers as $name => $value) {
                echo $name, ': ', $value, "\n";
            }
            echo "\n";
        } else {
            http_response_code($this->status);
            foreach ($headers as $name => $value) {
                header("$name: $value");
            }
        }
        if ($withBody) {
            echo $this->body;
        }
    }
}

final class Log
{
    /** One line on PHP's error log (FPM's, or stderr from the command line); never the page. */
    public static function error(string $what, \Throwable $e): void
    {
        error_log(sprintf('store: %s: %s: %s (%s:%d)', $what, $e::class, $e->getMessage(), basename($e->getFile()), $e->getLine()));
    }
}
