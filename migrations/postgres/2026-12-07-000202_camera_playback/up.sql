-- A camera's playback link: the NVR's URL for a window of its footage, with placeholders for the
-- start and the end ({start}/{end}: 20261207T043900Z; {start_iso}/{end_iso}: ISO 8601 with the
-- offset; {start_epoch}/{end_epoch}: seconds since 1970).
ALTER TABLE cameras ADD COLUMN playback_url TEXT;
