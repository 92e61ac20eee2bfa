SELECT
  COUNT("orders".id) AS "orders.count"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
WHERE
  CONTAINS(LOWER("orders".status), LOWER('pa'))
  AND (
    "orders".amount > 10 OR "orders".amount IS NULL
  )
ORDER BY
  "orders.count" DESC
LIMIT 10000
