<?php
/**
 * What the platform tells the store through its environment, in Magento Cloud's format:
 * MAGENTO_CLOUD_RELATIONSHIPS, MAGENTO_CLOUD_ROUTES and MAGENTO_CLOUD_VARIABLES hold base64
 * of JSON; MAGENTO_CLOUD_ENVIRONMENT, MAGENTO_CLOUD_PROJECT and the app's `variables.env`
 * (STORE_NAME) are plain.
 */

declare(strict_types=1);

namespace Luma\Store;

final class Env
{
    /** A variable of the environment (PHP-FPM passes them through getenv() and $_SERVER), or null when unset or empty. */
    public static function get(string $name): ?string
    {
        $value = getenv($name);
        if ($value === false) {
            $value = $_SERVER[$name] ?? $_ENV[$name] ?? null;
        }
        return is_string($value) && $value !== '' ? $value : null;
    }

    /**
     * A base64-of-JSON variable, decoded: an empty map when it is unset.
     *
     * @return array<mixed>
     */
    public static function json(string $name): array
    {
        $raw = self::get($name);
        if ($raw === null) {
            return [];
        }
        $json = base64_decode($raw, true);
        if ($json === false) {
            throw new \UnexpectedValueException("$name is not base64");
        }
        $value = json_decode($json, true, 64, JSON_THROW_ON_ERROR);
        if (!is_array($value)) {
            throw new \UnexpectedValueException("$name is not a JSON object");
        }
        return $value;
    }

    /**
     * The first endpoint of a relationship (host, port, username, password, path…), or null
     * when the application has no relationship of that name.
     *
     * @return array<string, mixed>|null
     */
    public static function relationship(string $name): ?array
    {
        $endpoints = self::json('MAGENTO_CLOUD_RELATIONSHIPS')[$name] ?? null;
        if (!is_array($endpoints) || !isset($endpoints[0]) || !is_array($endpoints[0])) {
            return null;
        }
        return $endpoints[0];
    }

    /** The endpoint's host, refused unless it is a plain host name or address (it goes into a DSN). */
    public static function host(array $endpoint): string
    {
        $host = $endpoint['host'] ?? null;
        if (!is_string($host) || preg_match('/^[A-Za-z0-9.:-]{1,253}$/', $host) !== 1) {
            throw new \UnexpectedValueException('the relationship has no valid host');
        }
        return $host;
    }

    public static function port(array $endpoint, int $default): int
    {
        $port = $endpoint['port'] ?? $default;
        if (is_string($port) && ctype_digit($port)) {
            $port = (int) $port;
        }
        if (!is_int($port) || $port < 1 || $port > 65535) {
            throw new \UnexpectedValueException('the relationship has no valid port');
        }
        return $port;
    }

    /**
     * The URL the store is reached at, ending with "/": the primary route of
     * MAGENTO_CLOUD_ROUTES, else its first upstream route, else http://localhost/.
     */
    public static function baseUrl(): string
    {
        $routes = self::json('MAGENTO_CLOUD_ROUTES');
        $chosen = null;
        foreach ($routes as $url => $route) {
            if (is_string($url) && is_array($route) && ($route['primary'] ?? false) === true) {
                $chosen = $url;
                break;
            }
        }
        if ($chosen === null) {
            foreach ($routes as $url => $route) {
                if (is_string($url) && is_array($route) && ($route['type'] ?? null) === 'upstream') {
                    $chosen = $url;
                    break;
                }
            }
        }
        if ($chosen === null || preg_match('#^https?://[^/\s]+#', $chosen) !== 1) {
            return 'http://localhost/';
        }
        return str_ends_with($chosen, '/') ? $chosen : "$chosen/";
    }
}
