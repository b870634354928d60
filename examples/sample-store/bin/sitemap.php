<?php
/**
 * The `sitemap` cron: writes pub/media/sitemap.xml (a mount) listing /products and each
 * product as /products#<sku>, under the URL of the primary route of MAGENTO_CLOUD_ROUTES
 * (http://localhost/ when there is none). Prints how many URLs it wrote. Without a database
 * relationship it says so and writes nothing.
 */

declare(strict_types=1);

require __DIR__ . '/../src/bootstrap.php';

use Luma\Store\Catalog;
use Luma\Store\Env;

try {
    $database = Env::relationship('database');
    if ($database === null) {
        echo "no database relationship: no sitemap written\n";
        exit(0);
    }
    $base = Env::baseUrl();
    $urls = [$base . 'products'];
    foreach (Catalog::connect($database)->products() as $product) {
        $urls[] = $base . 'products#' . rawurlencode($product['sku']);
    }
    $xml = '<?xml version="1.0" encoding="UTF-8"?>' . "\n" . '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' . "\n";
    foreach ($urls as $url) {
        $xml .= '  <url><loc>' . htmlspecialchars($url, ENT_XML1 | ENT_QUOTES, 'UTF-8') . "</loc></url>\n";
    }
    $xml .= "</urlset>\n";

    $file = __DIR__ . '/../pub/media/sitemap.xml';
    $tmp = $file . '.tmp-' . getmypid();
    if (file_put_contents($tmp, $xml) !== strlen($xml)) {
        throw new RuntimeException('cannot write pub/media/sitemap.xml');
    }
    rename($tmp, $file);
    printf("sitemap: wrote %d URLs to pub/media/sitemap.xml (%s)\n", count($urls), $base);
} catch (Throwable $e) {
    if (isset($tmp) && is_file($tmp)) {
        unlink($tmp);
    }
    fwrite(STDERR, 'sitemap: ' . $e->getMessage() . "\n");
    exit(1);
}
