SELECT
  "customers".name AS "customers.name",
  COUNT("orders".id) AS "orders.count"
FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
LEFT JOIN ICEBERG_SCAN('file:///wh/shop/customers/metadata/v1.metadata.json') AS "customers"
  ON "orders".customer_id = "customers".id
GROUP BY
  "customers".name
ORDER BY
  "orders.count" DESC,
  "customers.name" ASC
LIMIT 10000
