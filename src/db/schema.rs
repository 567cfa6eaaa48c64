//! The portable schema shared by both backends (times are UTC `Timestamp`s).
//! A test checks it against the migrated database of each backend.

diesel::table! {
    enterprises (code) {
        code -> Text,
        name -> Text,
        kinds -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credit_ratings (id) {
        id -> BigInt,
        enterprise_code -> Text,
        rating -> Text,
        effective_from -> Timestamp,
        reference -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    warehouses (code) {
        code -> Text,
        name -> Text,
        operator_code -> Text,
        zone -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bins (warehouse_code, code) {
        warehouse_code -> Text,
        code -> Text,
        area -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cameras (warehouse_code, code) {
        warehouse_code -> Text,
        code -> Text,
        name -> Text,
        area -> Text,
        created_at -> Timestamp,
        playback_url -> Nullable<Text>,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        role -> Text,
        warehouse_code -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        username -> Text,
        kind -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        token_id -> Nullable<Text>,
        name -> Nullable<Text>,
        scope -> Text,
    }
}

diesel::table! {
    feed_delivery (id) {
        id -> Integer,
        delivered_seq -> BigInt,
        delivered_at -> Nullable<Timestamp>,
        failures -> Integer,
        last_error -> Nullable<Text>,
        next_try_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_throttle (username, client) {
        username -> Text,
        client -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        delayed_until -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        username -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    audit_entries (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        role -> Text,
        action -> Text,
        entity_kind -> Text,
        entity_id -> Text,
        warehouse -> Nullable<Text>,
        enterprise -> Nullable<Text>,
        changes -> Text,
        reason -> Nullable<Text>,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    declarations (invt_no) {
        invt_no -> Text,
        order_no -> Text,
        ebp_code -> Text,
        ebp_name -> Text,
        ebc_code -> Text,
        ebc_name -> Text,
        agent_code -> Text,
        agent_name -> Text,
        logistics_no -> Text,
        logistics_code -> Text,
        logistics_name -> Text,
        area_code -> Text,
        customs_code -> Text,
        buyer_id_type -> Text,
        buyer_id_number -> Text,
        buyer_name -> Text,
        buyer_telephone -> Text,
        released_at -> Nullable<Timestamp>,
        return_status -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    declaration_lines (invt_no, gnum) {
        invt_no -> Text,
        gnum -> Integer,
        gcode -> Text,
        gname -> Text,
        qty -> BigInt,
        unit -> Text,
        bar_code -> Nullable<Text>,
        price -> Text,
    }
}

diesel::table! {
    returns (id) {
        id -> Text,
        guid -> Text,
        invt_no -> Text,
        logistics_no -> Text,
        reason -> Text,
        state -> Text,
        held_from -> Nullable<Text>,
        late -> Bool,
        discrepancy -> Bool,
        warehouse_code -> Nullable<Text>,
        camera_code -> Nullable<Text>,
        bin_code -> Nullable<Text>,
        applied_at -> Timestamp,
        received_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        customs_status -> Nullable<Integer>,
        customs_info -> Nullable<Text>,
        customs_at -> Nullable<Timestamp>,
        created_by -> Text,
    }
}

diesel::table! {
    return_lines (return_id, gnum) {
        return_id -> Text,
        gnum -> Integer,
        qty -> BigInt,
        sorted -> BigInt,
        inspected -> Bool,
        intact -> BigInt,
        damaged_packaging -> BigInt,
        used -> BigInt,
        defective -> BigInt,
        not_original -> BigInt,
        restocked -> BigInt,
        disposed_exit -> BigInt,
        disposed_reexport -> BigInt,
        disposed_destroy -> BigInt,
        pending_disposal -> BigInt,
    }
}

diesel::table! {
    return_discrepancies (id) {
        id -> BigInt,
        return_id -> Text,
        code -> Text,
        qty -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    disposals (id) {
        id -> BigInt,
        return_id -> Text,
        gnum -> Integer,
        qty -> BigInt,
        route -> Text,
        reference -> Text,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stock (owner_code, gcode, warehouse_code, bin_code) {
        owner_code -> Text,
        gcode -> Text,
        warehouse_code -> Text,
        bin_code -> Text,
        gname -> Text,
        qty -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    printers (warehouse_code, code) {
        warehouse_code -> Text,
        code -> Text,
        name -> Text,
        address -> Text,
        dpi -> Integer,
        size -> Text,
        area -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    print_jobs (id) {
        id -> BigInt,
        warehouse_code -> Text,
        printer_code -> Text,
        printer_name -> Text,
        label_kind -> Text,
        label_id -> Text,
        gnum -> Nullable<Integer>,
        origin -> Text,
        state -> Text,
        attempts -> Integer,
        failures -> Integer,
        error -> Nullable<Text>,
        error_detail -> Nullable<Text>,
        requested_by -> Text,
        requested_at -> Timestamp,
        next_try_at -> Nullable<Timestamp>,
        claim -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        size -> Nullable<Text>,
        dpi -> Nullable<Integer>,
        bytes -> Nullable<Integer>,
        retried_by -> Nullable<Text>,
        retried_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ceb_outbox (message_guid) {
        message_guid -> Text,
        return_id -> Text,
        file_name -> Text,
        xml -> Text,
        created_at -> Timestamp,
        written_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ceb_inbox_files (id) {
        id -> BigInt,
        file_name -> Text,
        sha256 -> Text,
        size -> BigInt,
        kind -> Nullable<Text>,
        message_guid -> Nullable<Text>,
        outcome -> Text,
        summary -> Text,
        reason -> Nullable<Text>,
        moved_to -> Text,
        imported_at -> Timestamp,
        moved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ceb_folder_state (folder) {
        folder -> Text,
        scanned_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        error_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (username));
diesel::joinable!(credit_ratings -> enterprises (enterprise_code));
diesel::joinable!(warehouses -> enterprises (operator_code));
diesel::joinable!(bins -> warehouses (warehouse_code));
diesel::joinable!(cameras -> warehouses (warehouse_code));
diesel::joinable!(printers -> warehouses (warehouse_code));
diesel::joinable!(print_jobs -> warehouses (warehouse_code));
diesel::joinable!(declaration_lines -> declarations (invt_no));
diesel::joinable!(returns -> declarations (invt_no));
diesel::joinable!(return_lines -> returns (return_id));
diesel::joinable!(ceb_outbox -> returns (return_id));

diesel::allow_tables_to_appear_in_same_query!(
    enterprises,
    credit_ratings,
    warehouses,
    bins,
    cameras,
    printers,
    print_jobs,
    users,
    sessions,
    sign_in_throttle,
    feed_delivery,
    idempotency_keys,
    counters,
    audit_entries,
    declarations,
    declaration_lines,
    returns,
    return_lines,
    return_discrepancies,
    disposals,
    stock,
    ceb_outbox,
    ceb_inbox_files,
    ceb_folder_state,
);
