<?php
/**
 * The store's products, in the MariaDB of the `database` relationship (the tables the deploy
 * hook's migrations create: products, schema_version).
 */

declare(strict_types=1);

namespace Luma\Store;

use PDO;
use PDOException;

final class DuplicateSku extends \RuntimeException
{
}

final class Catalog
{
    public function __construct(private readonly PDO $pdo)
    {
    }

    /** Connects to the relationship's database (PDO MySQL; errors are exceptions). */
    public static function connect(array $endpoint): self
    {
        $database = $endpoint['path'] ?? null;
        if (!is_string($database) || preg_match('/^[A-Za-z0-9_$-]{1,64}$/', $database) !== 1) {
            throw new \UnexpectedValueException('the database relationship has no valid path (the database name)');
        }
        $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4', Env::host($endpoint), Env::port($endpoint, 3306), $database);
        $pdo = new PDO($dsn, (string) ($endpoint['username'] ?? ''), (string) ($endpoint['password'] ?? ''), [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
            PDO::ATTR_EMULATE_PREPARES => false,
            PDO::ATTR_TIMEOUT => 3,
        ]);
        return new self($pdo);
    }

    /**
     * Every product, by sku.
     *
     * @return list<array{sku: string, name: string, price: string|null}>
     */
    public function products(): array
    {
        $products = [];
        foreach ($this->pdo->query('SELECT sku, name, price FROM products ORDER BY sku') as $row) {
            $products[] = [
                'sku' => (string) $row['sku'],
                'name' => (string) ($row['name'] ?? ''),
                'price' => $row['price'] === null ? null : (string) $row['price'],
            ];
        }
        return $products;
    }

    public function count(): int
    {
        return (int) $this->pdo->query('SELECT COUNT(*) FROM products')->fetchColumn();
    }

    /** The number of the last migration applied (0 before any). */
    public function schemaVersion(): int
    {
        try {
            return (int) $this->pdo->query('SELECT COALESCE(MAX(version), 0) FROM schema_version')->fetchColumn();
        } catch (PDOException $e) {
            if ($e->getCode() === '42S02') {
                return 0; // no schema_version table: no migration ever ran
            }
            throw $e;
        }
    }

    public function ping(): void
    {
        $this->pdo->query('SELECT 1')->fetchColumn();
    }

    /** Adds a product (values validated by the caller); DuplicateSku when its sku is taken. */
    public function add(string $sku, string $name, string $price): void
    {
        try {
            $this->pdo->prepare('INSERT INTO products (sku, name, price) VALUES (?, ?, ?)')->execute([$sku, $name, $price]);
        } catch (PDOException $e) {
            if ($e->getCode() === '23000' && ($e->errorInfo[1] ?? null) === 1062) {
                throw new DuplicateSku("a product with sku $sku exists already", 0, $e);
            }
            throw $e;
        }
    }
}
