-- Green Button data behind the consent (issue 13): interval readings and
-- bills per meter. The PostgreSQL twin of migrations/0003_espi_data.sql
-- (every integer BIGINT, as the store reads them as i64).

-- One interval reading: `value` in the meter's reading unit (Wh for
-- electricity, 1/1000 therm for gas, litres for water), over
-- [start, start + interval_length).
CREATE TABLE IF NOT EXISTS interval_readings (
    said             TEXT NOT NULL REFERENCES meters(said) ON DELETE CASCADE,
    interval_length  BIGINT NOT NULL,
    start_at         BIGINT NOT NULL,
    value            BIGINT NOT NULL,
    PRIMARY KEY (said, interval_length, start_at)
);

-- One bill (ESPI UsageSummary): consumption over the billing period in the
-- meter's reading unit, the bill in 1/100000 of the currency (ESPI cost
-- unit), ISO 4217 numeric currency.
CREATE TABLE IF NOT EXISTS usage_summaries (
    said             TEXT NOT NULL REFERENCES meters(said) ON DELETE CASCADE,
    period_start     BIGINT NOT NULL,
    period_duration  BIGINT NOT NULL,
    consumption      BIGINT NOT NULL,
    bill_amount      BIGINT NOT NULL,
    currency         BIGINT NOT NULL,
    issued_at        BIGINT NOT NULL,
    PRIMARY KEY (said, period_start)
);
