-- init.sql - runs once, when the postgres container starts on an empty data volume
-- (docker-entrypoint-initdb.d). One database per API, as the seed's issues #39/#40 asked:
-- the order role uses order_db, the stock role stock_db; each creates its own tables.
CREATE DATABASE order_db;
CREATE DATABASE stock_db;
