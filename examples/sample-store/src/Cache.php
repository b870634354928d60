<?php
/**
 * The Redis of the `redis` relationship (with its password), as a cache the store can live
 * without: when it is not declared or does not answer, values come from their source and the
 * state says so (none, down).
 */

declare(strict_types=1);

namespace Luma\Store;

final class Cache
{
    /** @param 'ok'|'none'|'down' $state */
    private function __construct(private ?\Redis $redis, private string $state)
    {
    }

    /** Connects (1 s timeouts) and authenticates; never throws: a failure is logged and leaves the cache down. */
    public static function connect(?array $endpoint): self
    {
        if ($endpoint === null) {
            return new self(null, 'none');
        }
        try {
            if (!class_exists(\Redis::class)) {
                throw new \RuntimeException('the PHP redis extension is not loaded');
            }
            $redis = new \Redis();
            if (!$redis->connect(Env::host($endpoint), Env::port($endpoint, 6379), 1.0, null, 0, 1.0)) {
                throw new \RuntimeException('cannot connect');
            }
            $password = $endpoint['password'] ?? '';
            if (is_string($password) && $password !== '' && !$redis->auth($password)) {
                throw new \RuntimeException('the password was refused');
            }
            return new self($redis, 'ok');
        } catch (\Throwable $e) {
            Log::error('cache unavailable', $e);
            return new self(null, 'down');
        }
    }

    /** @return 'ok'|'none'|'down' */
    public function state(): string
    {
        return $this->state;
    }

    /** ok when Redis answers PING now. */
    public function check(): string
    {
        if ($this->redis === null) {
            return $this->state;
        }
        try {
            $this->redis->ping();
            return 'ok';
        } catch (\Throwable $e) {
            $this->fail($e);
            return 'down';
        }
    }

    /**
     * The value under $key, else $load()'s, stored for $ttl seconds (JSON). Also how it came:
     * hit (from the cache), miss (loaded, then stored) or off (no cache: loaded only).
     *
     * @template T of array
     * @param callable(): T $load
     * @return array{0: T, 1: 'hit'|'miss'|'off'}
     */
    public function remember(string $key, int $ttl, callable $load): array
    {
        if ($this->redis === null) {
            return [$load(), 'off'];
        }
        try {
            $raw = $this->redis->get($key);
        } catch (\Throwable $e) {
            $this->fail($e);
            return [$load(), 'off'];
        }
        if (is_string($raw)) {
            $value = json_decode($raw, true);
            if (is_array($value)) {
                return [$value, 'hit'];
            }
        }
        $value = $load();
        try {
            $this->redis->setex($key, $ttl, json_encode($value, JSON_THROW_ON_ERROR));
        } catch (\Throwable $e) {
            $this->fail($e);
            return [$value, 'off'];
        }
        return [$value, 'miss'];
    }

    /** Removes a key; whether the cache took it (false: no cache, or it failed, logged). */
    public function forget(string $key): bool
    {
        if ($this->redis === null) {
            return false;
        }
        try {
            $this->redis->del($key);
            return true;
        } catch (\Throwable $e) {
            $this->fail($e);
            return false;
        }
    }

    private function fail(\Throwable $e): void
    {
        Log::error('cache failed', $e);
        $this->redis = null;
        $this->state = 'down';
    }
}
