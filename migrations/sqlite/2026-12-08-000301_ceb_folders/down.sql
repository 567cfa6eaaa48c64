DROP TABLE ceb_folder_state;
DROP TABLE ceb_inbox_files;
DROP TABLE ceb_outbox;
