DROP TRIGGER IF EXISTS reference_version_enterprises ON enterprises;
DROP TRIGGER IF EXISTS reference_version_credit_ratings ON credit_ratings;
DROP TRIGGER IF EXISTS reference_version_warehouses ON warehouses;
DROP TRIGGER IF EXISTS reference_version_bins ON bins;
DROP TRIGGER IF EXISTS reference_version_cameras ON cameras;
DROP FUNCTION IF EXISTS bump_reference_version();
DELETE FROM counters WHERE name = 'reference_version';
