-- Declarations that left the zone, return applications and their way through the warehouse.
CREATE TABLE declarations (
    invt_no TEXT PRIMARY KEY NOT NULL,
    order_no TEXT NOT NULL,
    ebp_code TEXT NOT NULL,
    ebp_name TEXT NOT NULL,
    ebc_code TEXT NOT NULL,
    ebc_name TEXT NOT NULL,
    agent_code TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    logistics_no TEXT NOT NULL,
    logistics_code TEXT NOT NULL,
    logistics_name TEXT NOT NULL,
    area_code TEXT NOT NULL,
    customs_code TEXT NOT NULL,
    buyer_id_type TEXT NOT NULL,
    buyer_id_number TEXT NOT NULL,
    buyer_name TEXT NOT NULL,
    buyer_telephone TEXT NOT NULL,
    released_at TIMESTAMP,
    return_status INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX declarations_by_waybill ON declarations(logistics_no);

CREATE TABLE declaration_lines (
    invt_no TEXT NOT NULL REFERENCES declarations(invt_no),
    gnum INTEGER NOT NULL,
    gcode TEXT NOT NULL,
    gname TEXT NOT NULL,
    qty BIGINT NOT NULL CHECK (qty > 0),
    unit TEXT NOT NULL,
    bar_code TEXT,
    price TEXT NOT NULL,
    PRIMARY KEY (invt_no, gnum)
);
CREATE INDEX declaration_lines_by_barcode ON declaration_lines(bar_code);

CREATE TABLE returns (
    id TEXT PRIMARY KEY NOT NULL,
    guid TEXT NOT NULL,
    invt_no TEXT NOT NULL REFERENCES declarations(invt_no),
    logistics_no TEXT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    held_from TEXT,
    late BOOLEAN NOT NULL,
    discrepancy BOOLEAN NOT NULL,
    warehouse_code TEXT REFERENCES warehouses(code),
    camera_code TEXT,
    bin_code TEXT,
    applied_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP,
    closed_at TIMESTAMP,
    customs_status INTEGER,
    customs_info TEXT,
    customs_at TIMESTAMP,
    created_by TEXT NOT NULL
);
CREATE INDEX returns_by_waybill ON returns(logistics_no);
CREATE INDEX returns_by_invt ON returns(invt_no);
CREATE INDEX returns_by_state ON returns(state, warehouse_code);

CREATE TABLE return_lines (
    return_id TEXT NOT NULL REFERENCES returns(id),
    gnum INTEGER NOT NULL,
    qty BIGINT NOT NULL CHECK (qty > 0),
    sorted BIGINT NOT NULL DEFAULT 0 CHECK (sorted >= 0),
    inspected BOOLEAN NOT NULL DEFAULT 0,
    intact BIGINT NOT NULL DEFAULT 0 CHECK (intact >= 0),
    damaged_packaging BIGINT NOT NULL DEFAULT 0 CHECK (damaged_packaging >= 0),
    used BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    defective BIGINT NOT NULL DEFAULT 0 CHECK (defective >= 0),
    not_original BIGINT NOT NULL DEFAULT 0 CHECK (not_original >= 0),
    restocked BIGINT NOT NULL DEFAULT 0 CHECK (restocked >= 0),
    disposed_exit BIGINT NOT NULL DEFAULT 0 CHECK (disposed_exit >= 0),
    disposed_reexport BIGINT NOT NULL DEFAULT 0 CHECK (disposed_reexport >= 0),
    disposed_destroy BIGINT NOT NULL DEFAULT 0 CHECK (disposed_destroy >= 0),
    pending_disposal BIGINT NOT NULL DEFAULT 0 CHECK (pending_disposal >= 0),
    PRIMARY KEY (return_id, gnum),
    CHECK (restocked + disposed_exit + disposed_reexport + disposed_destroy + pending_disposal <= qty)
);

CREATE TABLE return_discrepancies (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    return_id TEXT NOT NULL REFERENCES returns(id),
    code TEXT NOT NULL,
    qty BIGINT NOT NULL CHECK (qty > 0),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX return_discrepancies_by_return ON return_discrepancies(return_id);

CREATE TABLE disposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    return_id TEXT NOT NULL REFERENCES returns(id),
    gnum INTEGER NOT NULL,
    qty BIGINT NOT NULL CHECK (qty > 0),
    route TEXT NOT NULL,
    reference TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP
);
CREATE INDEX disposals_by_return ON disposals(return_id);
CREATE INDEX disposals_by_status ON disposals(status);

CREATE TABLE stock (
    owner_code TEXT NOT NULL,
    gcode TEXT NOT NULL,
    warehouse_code TEXT NOT NULL REFERENCES warehouses(code),
    bin_code TEXT NOT NULL,
    gname TEXT NOT NULL,
    qty BIGINT NOT NULL CHECK (qty >= 0),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (owner_code, gcode, warehouse_code, bin_code)
);
