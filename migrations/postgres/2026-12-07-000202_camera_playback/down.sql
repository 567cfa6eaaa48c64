ALTER TABLE cameras DROP COLUMN playback_url;
