SELECT
  DATE_TRUNC('week', TIMEZONE('UTC', CAST("orders".created_at AS TIMESTAMPTZ))) AS "orders.created_at.week",
  COUNT("orders".id) AS "orders.count"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
WHERE
  CAST("orders".created_at AS TIMESTAMPTZ) >= TIMEZONE('UTC', CAST('2024-01-01T00:00:00.000' AS TIMESTAMP))
  AND CAST("orders".created_at AS TIMESTAMPTZ) < TIMEZONE('UTC', CAST('2024-04-01T00:00:00.000' AS TIMESTAMP))
GROUP BY
  DATE_TRUNC('week', TIMEZONE('UTC', CAST("orders".created_at AS TIMESTAMPTZ)))
ORDER BY
  "orders.created_at.week" ASC
LIMIT 10000
