-- Reference data (enterprises, credit ratings, warehouses, bins, cameras) has a version: any
-- change to it raises the counter in the same transaction, whoever makes it. The writer keeps
-- what return steps read of it in memory and checks that counter once per request.
INSERT INTO counters (name, value) VALUES ('reference_version', 0);
CREATE TRIGGER reference_version_enterprises_insert AFTER INSERT ON enterprises
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_enterprises_update AFTER UPDATE ON enterprises
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_enterprises_delete AFTER DELETE ON enterprises
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_credit_ratings_insert AFTER INSERT ON credit_ratings
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_credit_ratings_update AFTER UPDATE ON credit_ratings
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_credit_ratings_delete AFTER DELETE ON credit_ratings
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_warehouses_insert AFTER INSERT ON warehouses
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_warehouses_update AFTER UPDATE ON warehouses
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_warehouses_delete AFTER DELETE ON warehouses
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_bins_insert AFTER INSERT ON bins
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_bins_update AFTER UPDATE ON bins
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_bins_delete AFTER DELETE ON bins
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_cameras_insert AFTER INSERT ON cameras
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_cameras_update AFTER UPDATE ON cameras
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
CREATE TRIGGER reference_version_cameras_delete AFTER DELETE ON cameras
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'reference_version';
END;
