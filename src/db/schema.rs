//! Table definitions shared by both backends (portable types only).

diesel::table! {
    enterprises (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        credit_code -> Nullable<Text>,
        kind -> Text,
        industry -> Nullable<Text>,
        region -> Nullable<Text>,
        address -> Nullable<Text>,
        website -> Nullable<Text>,
        description -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        stage -> Text,
        stage_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    participants (id) {
        id -> Text,
        full_name -> Text,
        name_key -> Text,
        side -> Text,
        enterprise_id -> Nullable<Text>,
        title -> Nullable<Text>,
        department -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(participants -> enterprises (enterprise_id));
diesel::allow_tables_to_appear_in_same_query!(enterprises, participants);
