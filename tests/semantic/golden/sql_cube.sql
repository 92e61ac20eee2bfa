SELECT
  SUM("big_orders".amount) AS "big_orders.total"
FROM (
  SELECT
    id,
    amount
  FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
  WHERE
    amount >= 20
) AS "big_orders"
ORDER BY
  "big_orders.total" DESC
LIMIT 10000
