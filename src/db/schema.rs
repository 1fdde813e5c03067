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

diesel::table! {
    order_classes (id) {
        id -> Text,
        enterprise_id -> Text,
        name -> Text,
        name_key -> Text,
        major -> Nullable<Text>,
        cohort_year -> Nullable<Integer>,
        planned_size -> Integer,
        enrolled_count -> Integer,
        employed_count -> Integer,
        allow_over_enrollment -> Integer,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        description -> Nullable<Text>,
        stage -> Text,
        stage_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    internship_bases (id) {
        id -> Text,
        enterprise_id -> Text,
        name -> Text,
        name_key -> Text,
        location -> Nullable<Text>,
        capacity -> Integer,
        positions -> Integer,
        description -> Nullable<Text>,
        stage -> Text,
        stage_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    agreements (id) {
        id -> Text,
        enterprise_id -> Text,
        order_class_id -> Nullable<Text>,
        internship_base_id -> Nullable<Text>,
        title -> Text,
        title_key -> Text,
        number -> Nullable<Text>,
        kind -> Text,
        signed_on -> Nullable<Date>,
        valid_from -> Date,
        valid_until -> Nullable<Date>,
        document_url -> Nullable<Text>,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    visits (id) {
        id -> Text,
        title -> Text,
        starts_at -> Timestamp,
        ends_at -> Nullable<Timestamp>,
        direction -> Text,
        location -> Nullable<Text>,
        purpose -> Nullable<Text>,
        summary -> Nullable<Text>,
        outcome -> Nullable<Text>,
        follow_up -> Nullable<Text>,
        follow_up_due -> Nullable<Date>,
        status -> Text,
        search_text -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    visit_enterprises (visit_id, enterprise_id) {
        visit_id -> Text,
        enterprise_id -> Text,
        starts_at -> Timestamp,
    }
}

diesel::table! {
    visit_participants (visit_id, participant_id) {
        visit_id -> Text,
        participant_id -> Text,
        role -> Text,
        starts_at -> Timestamp,
    }
}

diesel::table! {
    visit_order_classes (visit_id, order_class_id) {
        visit_id -> Text,
        order_class_id -> Text,
    }
}

diesel::table! {
    visit_internship_bases (visit_id, internship_base_id) {
        visit_id -> Text,
        internship_base_id -> Text,
    }
}

diesel::table! {
    stage_transitions (id) {
        id -> Text,
        subject_kind -> Text,
        subject_id -> Text,
        enterprise_id -> Text,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        actor -> Nullable<Text>,
        note -> Nullable<Text>,
        visit_id -> Nullable<Text>,
        agreement_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_name -> Text,
        action -> Text,
        entity_kind -> Text,
        entity_id -> Text,
        changes -> Text,
        request_id -> Nullable<Text>,
    }
}

diesel::joinable!(participants -> enterprises (enterprise_id));
diesel::joinable!(stage_transitions -> enterprises (enterprise_id));
diesel::joinable!(stage_transitions -> visits (visit_id));
diesel::joinable!(stage_transitions -> agreements (agreement_id));
diesel::joinable!(order_classes -> enterprises (enterprise_id));
diesel::joinable!(internship_bases -> enterprises (enterprise_id));
diesel::joinable!(agreements -> enterprises (enterprise_id));
diesel::joinable!(visit_enterprises -> visits (visit_id));
diesel::joinable!(visit_enterprises -> enterprises (enterprise_id));
diesel::joinable!(visit_participants -> visits (visit_id));
diesel::joinable!(visit_participants -> participants (participant_id));
diesel::joinable!(visit_order_classes -> visits (visit_id));
diesel::joinable!(visit_order_classes -> order_classes (order_class_id));
diesel::joinable!(visit_internship_bases -> visits (visit_id));
diesel::joinable!(visit_internship_bases -> internship_bases (internship_base_id));

diesel::allow_tables_to_appear_in_same_query!(
    enterprises,
    participants,
    order_classes,
    internship_bases,
    agreements,
    visits,
    visit_enterprises,
    visit_participants,
    visit_order_classes,
    visit_internship_bases,
    stage_transitions,
    api_tokens,
    audit_log,
);
