<?php
/** The store's HTML pages. Every value shown goes through h() (htmlspecialchars). */

declare(strict_types=1);

namespace Luma\Store;

final class Views
{
    public static function h(string|int|null $value): string
    {
        return htmlspecialchars((string) $value, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
    }

    public static function storeName(): string
    {
        return Env::get('STORE_NAME') ?? 'Luma Sample Store';
    }

    /** A whole page: $content is HTML already escaped. */
    public static function page(string $title, string $content): string
    {
        $h = self::h(...);
        return <<<HTML
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>{$h($title)} · {$h(self::storeName())}</title>
              <link rel="stylesheet" href="/static/frontend/Luma/storefront/en_US/css/styles.css">
            </head>
            <body>
              <header><a href="/">{$h(self::storeName())}</a> · <a href="/products">Products</a> · <a href="/admin">Admin</a></header>
              <main>
            {$content}
              </main>
            </body>
            </html>

            HTML;
    }

    /** "22.0000" → "22.00", "9.9950" → "9.995": two decimals at least, no trailing zeros beyond. */
    public static function price(?string $price): string
    {
        if ($price === null) {
            return '—';
        }
        if (preg_match('/^(\d+)(?:\.(\d*))?$/', $price, $m) !== 1) {
            return $price;
        }
        $decimals = rtrim($m[2] ?? '', '0');
        return $m[1] . '.' . str_pad($decimals, 2, '0');
    }

    /** @param list<array{sku: string, name: string, price: string|null}> $products */
    public static function products(array $products): string
    {
        $h = self::h(...);
        $items = '';
        foreach ($products as $p) {
            $items .= "      <li class=\"product\" id=\"{$h($p['sku'])}\" data-sku=\"{$h($p['sku'])}\">"
                . "<span class=\"sku\">{$h($p['sku'])}</span> <span class=\"name\">{$h($p['name'])}</span> "
                . "<span class=\"price\">{$h(self::price($p['price']))}</span></li>\n";
        }
        $list = $products === [] ? '    <p>No products yet.</p>' : "    <ul class=\"products\">\n{$items}    </ul>";
        return self::page('Products', "    <h1>Products</h1>\n{$list}");
    }

    public static function admin(string $environment, ?int $version, ?int $count, ?string $notice = null): string
    {
        $h = self::h(...);
        $facts = "      <dt>Environment</dt><dd class=\"environment\">{$h($environment)}</dd>\n";
        if ($version !== null && $count !== null) {
            $facts .= "      <dt>Schema version</dt><dd class=\"schema-version\">{$h($version)}</dd>\n"
                . "      <dt>Products</dt><dd class=\"product-count\">{$h($count)}</dd>\n";
        }
        $form = $notice !== null ? "    <p class=\"notice\">{$h($notice)}</p>" : <<<HTML
                <h2>Add a product</h2>
                <form method="post" action="/admin/products">
                  <label>SKU <input name="sku" required maxlength="64" pattern="[A-Za-z0-9-]{1,64}"></label>
                  <label>Name <input name="name" required maxlength="255"></label>
                  <label>Price <input name="price" required inputmode="decimal" pattern="[0-9]+(\.[0-9]{1,4})?"></label>
                  <button type="submit">Add</button>
                </form>
            HTML;
        return self::page('Luma Admin', "    <h1>Store Admin</h1>\n    <dl>\n{$facts}    </dl>\n{$form}");
    }

    public static function message(string $title, string $message): string
    {
        $h = self::h(...);
        return self::page($title, "    <h1>{$h($title)}</h1>\n    <p class=\"message\">{$h($message)}</p>");
    }
}
