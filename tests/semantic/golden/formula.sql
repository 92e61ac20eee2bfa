SELECT
  (
    1.0 * SUM(CASE WHEN (
      "orders".status = 'paid'
    ) THEN "orders".amount END) / SUM("orders".amount)
  ) AS "orders.paid_share",
  SUM(CASE WHEN (
    "orders".status = 'paid'
  ) THEN "orders".amount END) AS "orders.paid_total"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
ORDER BY
  "orders.paid_share" DESC
LIMIT 10000
