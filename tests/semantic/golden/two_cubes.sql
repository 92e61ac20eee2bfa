WITH "__keys0" AS (
  SELECT DISTINCT
    "customers".country AS "__d0",
    "orders".id AS "__pk0"
  FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/items/metadata/v1.metadata.json') AS "items"
    ON "orders".id = "items".order_id
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/customers/metadata/v1.metadata.json') AS "customers"
    ON "orders".customer_id = "customers".id
), "__agg0" AS (
  SELECT
    "__k"."__d0",
    SUM("orders".amount) AS "__m0"
  FROM "__keys0" AS "__k"
  INNER JOIN ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
    ON "orders".id = "__k"."__pk0"
  GROUP BY
    "__k"."__d0"
), "__agg1" AS (
  SELECT
    "customers".country AS "__d0",
    SUM("items".qty) AS "__m1"
  FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/items/metadata/v1.metadata.json') AS "items"
    ON "orders".id = "items".order_id
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/customers/metadata/v1.metadata.json') AS "customers"
    ON "orders".customer_id = "customers".id
  GROUP BY
    "customers".country
), "__dims" AS (
  SELECT DISTINCT
    "customers".country AS "__d0"
  FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/items/metadata/v1.metadata.json') AS "items"
    ON "orders".id = "items".order_id
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/customers/metadata/v1.metadata.json') AS "customers"
    ON "orders".customer_id = "customers".id
)
SELECT
  "__dims"."__d0" AS "customers.country",
  "__agg0"."__m0" AS "orders.total",
  "__agg1"."__m1" AS "items.qty"
FROM "__dims"
LEFT JOIN "__agg0"
  ON "__dims"."__d0" IS NOT DISTINCT FROM "__agg0"."__d0"
LEFT JOIN "__agg1"
  ON "__dims"."__d0" IS NOT DISTINCT FROM "__agg1"."__d0"
ORDER BY
  "orders.total" DESC,
  "customers.country" ASC
LIMIT 10000
