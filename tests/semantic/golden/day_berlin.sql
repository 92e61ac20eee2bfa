SELECT
  DATE_TRUNC('day', TIMEZONE('Europe/Berlin', CAST("orders".created_at AS TIMESTAMPTZ))) AS "orders.created_at.day",
  COUNT("orders".id) AS "orders.count"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
WHERE
  CAST("orders".created_at AS TIMESTAMPTZ) >= TIMEZONE('Europe/Berlin', CAST('2024-03-26T00:00:00.000' AS TIMESTAMP))
  AND CAST("orders".created_at AS TIMESTAMPTZ) < TIMEZONE('Europe/Berlin', CAST('2024-04-02T00:00:00.000' AS TIMESTAMP))
GROUP BY
  DATE_TRUNC('day', TIMEZONE('Europe/Berlin', CAST("orders".created_at AS TIMESTAMPTZ)))
ORDER BY
  "orders.created_at.day" ASC
LIMIT 10000
