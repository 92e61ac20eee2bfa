WITH "__keys0" AS (
  SELECT DISTINCT
    "items".product AS "__d0",
    "orders".id AS "__pk0"
  FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/items/metadata/v1.metadata.json') AS "items"
    ON "orders".id = "items".order_id
), "__agg0" AS (
  SELECT
    "__k"."__d0",
    SUM("orders".amount) AS "__m0"
  FROM "__keys0" AS "__k"
  INNER JOIN ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
    ON "orders".id = "__k"."__pk0"
  GROUP BY
    "__k"."__d0"
), "__dims" AS (
  SELECT DISTINCT
    "items".product AS "__d0"
  FROM ICEBERG_SCAN('file:///wh/shop/orders/metadata/v1.metadata.json') AS "orders"
  LEFT JOIN ICEBERG_SCAN('file:///wh/shop/items/metadata/v1.metadata.json') AS "items"
    ON "orders".id = "items".order_id
)
SELECT
  "__dims"."__d0" AS "items.product",
  "__agg0"."__m0" AS "orders.total"
FROM "__dims"
LEFT JOIN "__agg0"
  ON "__dims"."__d0" IS NOT DISTINCT FROM "__agg0"."__d0"
ORDER BY
  "orders.total" DESC,
  "items.product" ASC
LIMIT 10000
