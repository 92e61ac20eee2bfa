SELECT
  COUNT("orders".id) AS "orders.count"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
WHERE
  (
    "orders".status = 'paid'
  )
ORDER BY
  "orders.count" DESC
LIMIT 10000
