SELECT
  "orders".status AS "orders.status",
  SUM("orders".amount) AS "orders.total"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
GROUP BY
  "orders".status
HAVING
  SUM("orders".amount) >= 100
ORDER BY
  "orders.total" DESC,
  "orders.status" ASC
LIMIT 10000
