DROP TABLE feed_delivery;
