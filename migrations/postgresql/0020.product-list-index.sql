-- depends: 0004.projections
-- `GET /products` and `custody status --all` read the product status one page at a time, most recently changed
-- first (projections/status_query.py `list_status`): these indexes hand out a page in that order, in one state or
-- all, without sorting every product, so that a page costs the same with a thousand products or a hundred thousand.
-- Derived data only: `custody projections rebuild` refills the table, the indexes follow.
CREATE INDEX IF NOT EXISTS projection_product_status_by_change
    ON projection_product_status (last_occurred_at DESC, product_id);
CREATE INDEX IF NOT EXISTS projection_product_status_by_state_change
    ON projection_product_status (state, last_occurred_at DESC, product_id);
