-- The catalogue, with three products of the Luma sample data.
CREATE TABLE products (sku VARCHAR(64) PRIMARY KEY, name VARCHAR(255)) DEFAULT CHARSET = utf8mb4;
INSERT INTO products (sku, name) VALUES
  ('WS12', 'Radiant Tee'),
  ('WT09', 'Breathe-Easy Tank'),
  ('MT07', 'Argus All-Weather Tank');
