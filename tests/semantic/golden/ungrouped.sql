SELECT
  "orders".id AS "orders.id",
  "orders".amount AS "orders.total"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
LIMIT 3
OFFSET 1
