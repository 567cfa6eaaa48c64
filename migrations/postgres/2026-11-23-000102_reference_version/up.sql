-- Reference data (enterprises, credit ratings, warehouses, bins, cameras) has a version: any
-- change to it raises the counter in the same transaction, whoever makes it. The writer keeps
-- what return steps read of it in memory and checks that counter once per request.
INSERT INTO counters (name, value) VALUES ('reference_version', 0);
CREATE FUNCTION bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
    RETURN NULL;
END;
$$;
CREATE TRIGGER reference_version_enterprises AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON enterprises
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER reference_version_credit_ratings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON credit_ratings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER reference_version_warehouses AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON warehouses
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER reference_version_bins AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bins
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER reference_version_cameras AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cameras
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
