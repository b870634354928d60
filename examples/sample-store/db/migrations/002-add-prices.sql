-- Prices, and those of the sample products.
ALTER TABLE products ADD COLUMN price DECIMAL(12,4);
UPDATE products SET price = 22.00 WHERE sku = 'WS12';
UPDATE products SET price = 34.00 WHERE sku = 'WT09';
UPDATE products SET price = 22.00 WHERE sku = 'MT07';
