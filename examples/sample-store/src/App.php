<?php
/**
 * The store's routes:
 *
 *   GET  /products         the products (sku, name, price) from MariaDB, cached 30 s in Redis
 *                          (X-Store-Cache: hit, miss, or off when there is no Redis)
 *   GET  /admin            the Store Admin: environment, schema version, product count, a form
 *   POST /admin/products   adds a product (sku, name, price), clears the cache, 303 to /products
 *   GET  /health           200, text: "ok", then "db: ok|none|down" and "cache: ok|none|down"
 *
 * Anything else is a 404 page (a known path asked with another method: 405). Without a
 * `database` relationship, /products and the form answer 503 and say so; a database that
 * does not answer gives a generic 503, any other failure a generic 500 (the details go to
 * the error log, never to the page).
 */

declare(strict_types=1);

namespace Luma\Store;

final class App
{
    public const PRODUCTS_KEY = 'products:v1';
    public const PRODUCTS_TTL = 30;
    private const NO_DATABASE = 'This environment has no database relationship: the store has no catalogue here. Declare a MySQL service in .magento/services.yaml and a "database" relationship in .magento.app.yaml.';

    /** path → method → handler */
    private const ROUTES = [
        '/products' => ['GET' => 'products'],
        '/admin' => ['GET' => 'admin'],
        '/admin/products' => ['POST' => 'addProduct'],
        '/health' => ['GET' => 'health'],
    ];

    public function handle(Request $request): Response
    {
        $methods = self::ROUTES[$request->path] ?? null;
        if ($methods === null) {
            return Response::html(404, Views::message('Not found', "There is no page at {$request->path}."));
        }
        $method = $request->method === 'HEAD' ? 'GET' : $request->method;
        $handler = $methods[$method] ?? null;
        if ($handler === null) {
            return Response::html(405, Views::message('Method not allowed', "{$request->path} answers " . implode(', ', array_keys($methods)) . ' only.'))
                ->with('Allow', implode(', ', array_keys($methods)));
        }
        try {
            return $this->$handler($request);
        } catch (\PDOException $e) {
            Log::error("database error on {$request->method} {$request->path}", $e);
            return self::unavailable();
        }
    }

    public static function unavailable(): Response
    {
        return Response::html(503, Views::message('Service unavailable', "The store's database is not available. Please try again in a moment."));
    }

    public static function failure(): Response
    {
        return Response::html(500, Views::message('Something went wrong', 'The store could not answer this request. The error is logged.'));
    }

    private static function noDatabase(): Response
    {
        return Response::html(503, Views::message('No database', self::NO_DATABASE));
    }

    private function products(Request $request): Response
    {
        $database = Env::relationship('database');
        if ($database === null) {
            return self::noDatabase();
        }
        $cache = Cache::connect(Env::relationship('redis'));
        [$products, $how] = $cache->remember(self::PRODUCTS_KEY, self::PRODUCTS_TTL, fn (): array => Catalog::connect($database)->products());
        return Response::html(200, Views::products($products))->with('X-Store-Cache', $how);
    }

    private function admin(Request $request): Response
    {
        $environment = Env::get('MAGENTO_CLOUD_ENVIRONMENT') ?? 'unknown';
        $database = Env::relationship('database');
        if ($database === null) {
            return Response::html(200, Views::admin($environment, null, null, self::NO_DATABASE));
        }
        $catalog = Catalog::connect($database);
        return Response::html(200, Views::admin($environment, $catalog->schemaVersion(), $catalog->count()));
    }

    private function addProduct(Request $request): Response
    {
        $database = Env::relationship('database');
        if ($database === null) {
            return self::noDatabase();
        }
        $sku = $request->field('sku');
        $name = trim($request->field('name'));
        $price = trim($request->field('price'));
        $problem = match (true) {
            preg_match('/^[A-Za-z0-9-]{1,64}$/D', $sku) !== 1 => 'sku: must be 1 to 64 letters, digits or "-"',
            preg_match('/^.{1,255}$/uDs', $name) !== 1 || preg_match('/[\x00-\x1f\x7f]/', $name) === 1 => 'name: must be 1 to 255 characters of text',
            preg_match('/^\d{1,8}(\.\d{1,4})?$/D', $price) !== 1 => 'price: must be a decimal number of at least 0, with at most 8 digits before the point and 4 after (e.g. 19.99)',
            default => null,
        };
        if ($problem !== null) {
            return Response::html(400, Views::message('Invalid product', $problem));
        }
        try {
            Catalog::connect($database)->add($sku, $name, $price);
        } catch (DuplicateSku $e) {
            return Response::html(409, Views::message('Invalid product', "sku: {$e->getMessage()}"));
        }
        Cache::connect(Env::relationship('redis'))->forget(self::PRODUCTS_KEY);
        return Response::html(303, Views::message('Product added', "Added $sku."), ['Location' => '/products']);
    }

    private function health(Request $request): Response
    {
        $database = Env::relationship('database');
        $db = 'none';
        if ($database !== null) {
            try {
                Catalog::connect($database)->ping();
                $db = 'ok';
            } catch (\Throwable $e) {
                Log::error('health: database down', $e);
                $db = 'down';
            }
        }
        $cache = Cache::connect(Env::relationship('redis'))->check();
        return Response::text(200, "ok\ndb: $db\ncache: $cache\n");
    }
}
