DROP TABLE stock;
DROP TABLE disposals;
DROP TABLE return_discrepancies;
DROP TABLE return_lines;
DROP TABLE returns;
DROP TABLE declaration_lines;
DROP TABLE declarations;
