-- depends: 0004.projections
-- The worklist reads the product status one page at a time (projections/worklist_query.py). Its first section is
-- the products awaiting the reader's next steps (`next_step IN (…)`), most urgent first, the running deadline
-- first: this index finds them without reading the other products, so that page costs the same with ten products
-- or ten thousand. (The running deadlines are found by 0004's index on deadline_at.)
-- Derived data only: `custody projections rebuild` refills the table, the index follows.
CREATE INDEX IF NOT EXISTS projection_product_status_by_next_step
    ON projection_product_status (next_step, deadline_at);
