//! The demo data set, built around a real event: on 29 November 2024 the chief
//! economist of Shanghai Carbonbay Industrial Park, Dong Xiaodan, visited the college
//! with representatives of two companies in the park; President Chen Xiaobin hosted;
//! both sides reached a preliminary intention on an order class and a talent
//! training plan, and proposed a jointly built internship training base. Details
//! the news article does not give (the other people's names, the other partners)
//! are invented and say so in their notes or descriptions.

use std::time::Instant;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime};

use super::{ensure_empty, Records, SeedError, Silent, Summary};
use crate::db::bulk::{
    self, AgreementRow, EnterpriseRow, InternshipBaseRow, OrderClassRow, ParticipantRow,
    StageTransitionRow, VisitEnterpriseRow, VisitInternshipBaseRow, VisitOrderClassRow,
    VisitParticipantRow, VisitRow,
};
use crate::db::{self, DbConn};
use crate::domain::credit_code::CreditCode;
use crate::domain::enterprise::EnterpriseKind;
use crate::domain::ids::{
    AgreementId, EnterpriseId, InternshipBaseId, OrderClassId, ParticipantId, TransitionId, VisitId,
};
use crate::domain::participant::Side;
use crate::domain::stage::Stage;
use crate::domain::stage_machine::SubjectKind;
use crate::domain::visit::search_text;
use crate::domain::{self, name};

/// Loads the demo data set in one transaction. Refuses a database that already has
/// enterprises unless `force`; even then, refuses (and writes nothing) when one of
/// the demo's enterprise names is taken.
pub fn demo(conn: &mut DbConn, force: bool) -> Result<Summary, SeedError> {
    let started = Instant::now();
    let records = records(domain::now().naive_utc())?;
    let park_id = records.enterprises.first().map(|e| e.id.clone());
    let mut summary = db::write(conn, |conn| {
        ensure_empty(conn, force)?;
        let keys: Vec<String> = records
            .enterprises
            .iter()
            .map(|e| e.name_key.clone())
            .collect();
        let taken = bulk::names_with_keys(conn, &keys)?;
        if !taken.is_empty() {
            return Err(SeedError::DuplicateNames { names: taken });
        }
        let mut summary = Summary::default();
        records.insert(conn, &mut summary, &mut Silent)?;
        Ok(summary)
    })?;
    summary.park_id = park_id.and_then(|id| id.parse().ok());
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The demo's rows, stamped `now`.
fn records(now: NaiveDateTime) -> Result<Records, SeedError> {
    let mut r = Records::default();
    let mut b = Builder { now, r: &mut r };

    // The park and the two companies of the 29 November 2024 visit.
    let park = b.enterprise(
        "Shanghai Carbonbay Industrial Park",
        EnterpriseKind::IndustrialPark,
        None,
        "chemicals and new materials",
        Some("91310000MA1K4C2D5"),
        "Industrial park whose member companies include Mitsui Chemical and DR New Materials. \
         Its enterprises urgently need technical and skilled personnel who master new \
         technologies and new processes.",
    )?;
    let mitsui = b.enterprise(
        "Mitsui Chemical",
        EnterpriseKind::Company,
        Some(&park),
        "chemicals",
        Some("91310000MA1K4C3E8"),
        "Chemical company in Shanghai Carbonbay Industrial Park; its representatives joined \
         the park's visit of 29 November 2024.",
    )?;
    let dr = b.enterprise(
        "DR New Materials",
        EnterpriseKind::Company,
        Some(&park),
        "new materials",
        Some("91310000MA1K4C4F0"),
        "New-materials company in Shanghai Carbonbay Industrial Park; its representatives \
         joined the park's visit of 29 November 2024.",
    )?;
    // Other partners, invented so that every list has something in it.
    let logistics = b.enterprise(
        "Binhai Cold Chain Logistics Co., Ltd.",
        EnterpriseKind::Company,
        None,
        "logistics",
        Some("91310000MA1K4D1G2"),
        "Invented for the demo: cold-chain warehousing and distribution; framework \
         agreement signed in 2025.",
    )?;
    let hospital = b.enterprise(
        "Riverside People's Hospital",
        EnterpriseKind::Institution,
        None,
        "healthcare",
        Some("12310000425012768"),
        "Invented for the demo: general hospital sponsoring a nursing order class.",
    )?;
    let association = b.enterprise(
        "Bay Area Fine Chemicals Industry Association",
        EnterpriseKind::Association,
        None,
        "chemicals",
        Some("51310000MJ4K2B7L1"),
        "Invented for the demo: industry association of fine-chemicals companies.",
    )?;
    let government = b.enterprise(
        "Riverside District Economic Development Office",
        EnterpriseKind::Government,
        None,
        "public administration",
        Some("11310000002417913"),
        "Invented for the demo: district office that funds apprenticeship places.",
    )?;
    let machinery = b.enterprise(
        "Eastlink Precision Machinery Co., Ltd.",
        EnterpriseKind::Company,
        None,
        "equipment manufacturing",
        Some("91310000MA1K4E5J6"),
        "Invented for the demo: precision machining; discussing apprenticeships.",
    )?;

    // The college's side.
    const PLACEHOLDER: &str =
        "Placeholder: the news article of 29 November 2024 does not name this person.";
    const INVENTED: &str = "Invented for the demo.";
    let president = b.school(
        "Chen Xiaobin",
        "President",
        "President's Office",
        Some("陈晓斌; hosted the Shanghai Carbonbay Industrial Park visit of 29 November 2024."),
    );
    let dean = b.school(
        "Zhou Wenjie",
        "Dean",
        "School of Chemical Engineering",
        Some(PLACEHOLDER),
    );
    let director = b.school(
        "Li Na",
        "Director",
        "School-Enterprise Cooperation Office",
        Some(PLACEHOLDER),
    );
    let deputy = b.school(
        "Zhang Hui",
        "Deputy Director",
        "School-Enterprise Cooperation Office",
        Some(INVENTED),
    );
    let nursing_dean = b.school("Sun Li", "Dean", "School of Nursing", Some(INVENTED));
    let logistics_dean = b.school(
        "Xu Gang",
        "Dean",
        "School of Logistics Management",
        Some(INVENTED),
    );

    // The partners' side.
    let dong = b.partner(
        &park,
        "Dong Xiaodan",
        "Chief Economist",
        None,
        Some("董晓丹; shared the park's development plan and its demand for skilled personnel."),
    );
    let mitsui_rep = b.partner(
        &mitsui,
        "Liu Yang",
        "Human Resources Manager",
        Some("Human Resources"),
        Some("Placeholder for the Mitsui Chemical representative; the article does not name them."),
    );
    let dr_rep = b.partner(
        &dr,
        "Gao Jing",
        "Production Manager",
        Some("Production"),
        Some(
            "Placeholder for the DR New Materials representative; the article does not name them.",
        ),
    );
    let logistics_rep = b.partner(
        &logistics,
        "Huang Lei",
        "Operations Director",
        Some("Operations"),
        Some(INVENTED),
    );
    let hospital_rep = b.partner(
        &hospital,
        "Ma Li",
        "Director of Nursing",
        Some("Nursing Department"),
        Some(INVENTED),
    );
    let association_rep = b.partner(
        &association,
        "Qian Wei",
        "Secretary-General",
        Some("Secretariat"),
        Some(INVENTED),
    );
    let government_rep = b.partner(
        &government,
        "Zhao Min",
        "Deputy Director",
        None,
        Some(INVENTED),
    );
    b.partner(
        &machinery,
        "Xie Tao",
        "Human Resources Manager",
        Some("Human Resources"),
        Some(INVENTED),
    );

    // What the park visit discussed: the order class (with the park, the other side
    // of the discussion) and the proposed base, both at intention.
    let park_class = b.order_class(OrderClassRow {
        enterprise_id: park.clone(),
        name: "Carbonbay Industrial Park Order Class".into(),
        major: Some("Applied Chemical Technology".into()),
        cohort_year: Some(2025),
        planned_size: 40,
        description: Some(
            "Order-based talent training programme for the park's companies (Mitsui Chemical, \
             DR New Materials). Discussed with the talent training plan on 29 November 2024; \
             preliminary cooperation intention. Major and size are the office's working \
             assumptions."
                .into(),
        ),
        ..b.order_class_defaults()
    });
    let park_base = b.internship_base(InternshipBaseRow {
        enterprise_id: park.clone(),
        name: "Carbonbay Industrial Park Internship Training Base".into(),
        location: Some("Shanghai Carbonbay Industrial Park".into()),
        description: Some(
            "Jointly built internship training base proposed by Dong Xiaodan on 29 November \
             2024; capacity to be agreed."
                .into(),
        ),
        ..b.internship_base_defaults()
    });
    let nursing_class = b.order_class(OrderClassRow {
        enterprise_id: hospital.clone(),
        name: "Riverside Hospital Nursing Order Class".into(),
        major: Some("Nursing".into()),
        cohort_year: Some(2025),
        planned_size: 45,
        starts_on: Some(date(2025, 9, 1)?),
        ends_on: Some(date(2028, 6, 30)?),
        enrolled_count: 42,
        description: Some("Invented for the demo.".into()),
        ..b.order_class_defaults()
    });
    let cold_chain_base = b.internship_base(InternshipBaseRow {
        enterprise_id: logistics.clone(),
        name: "Binhai Cold Chain Internship Base".into(),
        location: Some("Binhai Cold Chain Logistics warehouse".into()),
        capacity: 30,
        positions: 6,
        description: Some("Invented for the demo.".into()),
        ..b.internship_base_defaults()
    });

    // The evidence behind the two partners at `agreement`.
    let framework = b.agreement(AgreementRow {
        enterprise_id: logistics.clone(),
        title: "School-Enterprise Cooperation Framework Agreement".into(),
        number: Some("XQHZ-2025-001".into()),
        kind: "framework",
        signed_on: Some(date(2025, 3, 12)?),
        valid_from: date(2025, 4, 1)?,
        valid_until: Some(date(2028, 3, 31)?),
        notes: Some("Invented for the demo.".into()),
        ..b.agreement_defaults()
    });
    let nursing_agreement = b.agreement(AgreementRow {
        enterprise_id: hospital.clone(),
        order_class_id: Some(nursing_class.clone()),
        title: "Nursing Order Class Agreement".into(),
        number: Some("XQHZ-2025-002".into()),
        kind: "order_class",
        signed_on: Some(date(2025, 5, 20)?),
        valid_from: date(2025, 6, 1)?,
        valid_until: Some(date(2028, 6, 30)?),
        notes: Some("Invented for the demo.".into()),
        ..b.agreement_defaults()
    });

    // The visit of 29 November 2024, 10:00–12:00 in Shanghai.
    let park_visit = b.visit(
        VisitRow {
            title: "Shanghai Carbonbay Industrial Park visits to discuss joint training of talents"
                .into(),
            starts_at: instant("2024-11-29T02:00:00Z")?,
            ends_at: Some(instant("2024-11-29T04:00:00Z")?),
            direction: "inbound",
            location: Some("The college".into()),
            purpose: Some(
                "Deepen school-enterprise cooperation with Shanghai Carbonbay Industrial Park \
                 and promote the joint training of talents."
                    .into(),
            ),
            summary: Some(
                "President Chen Xiaobin presented the college's work on innovative vocational \
                 education and the integration of production and education. Chief economist \
                 Dong Xiaodan shared the park's development plan and its demand for \
                 high-quality technical and skilled personnel: enterprises in the park urgently \
                 need professionals who master new technologies and new processes. She proposed \
                 jointly building an internship training base and developing an order-based \
                 talent training programme. Representatives of Mitsui Chemical and DR New \
                 Materials expressed their views. Both sides discussed the establishment of the \
                 order class and the talent training plan."
                    .into(),
            ),
            outcome: Some(
                "Preliminary cooperation intention on the order class and the talent training \
                 plan; a jointly built internship training base was proposed."
                    .into(),
            ),
            follow_up: Some(
                "Draft the order-class proposal and the talent training plan with the park; \
                 collect Mitsui Chemical's and DR New Materials' needs for positions and \
                 skills; arrange a site visit to the park for the proposed internship base."
                    .into(),
            ),
            follow_up_due: Some(date(2024, 12, 31)?),
            status: "held",
            ..b.visit_defaults()
        },
        &[&park, &mitsui, &dr],
        &[
            (&president, "host"),
            (&dong, "speaker"),
            (&mitsui_rep, "guest"),
            (&dr_rep, "guest"),
            (&dean, "attendee"),
            (&director, "attendee"),
        ],
        &[&park_class],
        &[&park_base],
    );

    // Other visits: held, cancelled and planned.
    let cold_chain_visit = b.visit(
        VisitRow {
            title: "Site visit to Binhai Cold Chain Logistics and framework agreement signing"
                .into(),
            starts_at: instant("2025-03-12T06:00:00Z")?,
            ends_at: Some(instant("2025-03-12T08:30:00Z")?),
            direction: "outbound",
            location: Some("Binhai Cold Chain Logistics warehouse".into()),
            purpose: Some("Tour the cold-chain warehouse and sign the framework agreement.".into()),
            summary: Some(
                "The delegation toured the warehouse; both sides signed the framework agreement \
                 and discussed an internship base for logistics students."
                    .into(),
            ),
            outcome: Some("Framework agreement signed; internship base under negotiation.".into()),
            follow_up: Some("Send the draft internship base plan to Huang Lei.".into()),
            follow_up_due: Some(date(2025, 4, 15)?),
            status: "held",
            ..b.visit_defaults()
        },
        &[&logistics],
        &[
            (&logistics_rep, "host"),
            (&logistics_dean, "guest"),
            (&director, "guest"),
        ],
        &[],
        &[&cold_chain_base],
    );
    let hospital_visit = b.visit(
        VisitRow {
            title: "Riverside People's Hospital: nursing order class agreement".into(),
            starts_at: instant("2025-05-20T01:30:00Z")?,
            ends_at: Some(instant("2025-05-20T03:00:00Z")?),
            direction: "inbound",
            location: Some("College meeting room 1".into()),
            purpose: Some("Agree the nursing order class for the 2025 cohort.".into()),
            summary: Some("Both sides agreed the class size, curriculum and placements.".into()),
            outcome: Some("Order class agreement signed.".into()),
            status: "held",
            ..b.visit_defaults()
        },
        &[&hospital],
        &[
            (&nursing_dean, "host"),
            (&hospital_rep, "guest"),
            (&deputy, "attendee"),
        ],
        &[&nursing_class],
        &[],
    );
    b.visit(
        VisitRow {
            title: "Online meeting with the Bay Area Fine Chemicals Industry Association".into(),
            starts_at: instant("2025-06-18T07:00:00Z")?,
            ends_at: Some(instant("2025-06-18T08:00:00Z")?),
            direction: "online",
            location: Some("Video conference".into()),
            purpose: Some(
                "Introduce the college's chemical majors to the association's members.".into(),
            ),
            follow_up: Some("Cancelled by the association; to be rescheduled.".into()),
            status: "cancelled",
            ..b.visit_defaults()
        },
        &[&association],
        &[(&director, "host"), (&association_rep, "guest")],
        &[],
        &[],
    );
    let today = now.date();
    b.visit(
        VisitRow {
            title: "Site visit to Shanghai Carbonbay Industrial Park for the internship base"
                .into(),
            starts_at: days_after(today, 21)?,
            ends_at: Some(days_after(today, 21)? + chrono::TimeDelta::hours(3)),
            direction: "outbound",
            location: Some("Shanghai Carbonbay Industrial Park".into()),
            purpose: Some(
                "Follow up the visit of 29 November 2024: see the sites proposed for the \
                 internship training base and meet the member companies."
                    .into(),
            ),
            status: "planned",
            ..b.visit_defaults()
        },
        &[&park, &mitsui],
        &[
            (&dong, "host"),
            (&mitsui_rep, "attendee"),
            (&dean, "guest"),
            (&director, "guest"),
        ],
        &[&park_class],
        &[&park_base],
    );
    b.visit(
        VisitRow {
            title: "Riverside District Economic Development Office: apprenticeship funding".into(),
            starts_at: days_after(today, 45)?,
            ends_at: Some(days_after(today, 45)? + chrono::TimeDelta::hours(2)),
            direction: "inbound",
            location: Some("College meeting room 2".into()),
            purpose: Some("Discuss district funding for apprenticeship places.".into()),
            status: "planned",
            ..b.visit_defaults()
        },
        &[&government],
        &[
            (&president, "host"),
            (&government_rep, "guest"),
            (&deputy, "attendee"),
        ],
        &[],
        &[],
    );

    // The stage history: the 29 November visit puts the park, its two companies,
    // the order class and the base on record at `intention`; the other partners come
    // on record in 2025, and later visits and signed agreements move them forward,
    // so that every stage and report has something to show. Every item's history
    // starts with the day it came on record, so the funnel can tell how long each
    // stage took: of the five partners met in 2025, two reached an agreement.
    let park_visit_end = instant("2024-11-29T04:00:00Z")?;
    for company in [&park, &mitsui, &dr] {
        b.move_to(Move {
            note: Some("Preliminary cooperation intention at the visit of 29 November 2024."),
            visit: Some(&park_visit),
            ..Move::new(
                SubjectKind::Enterprise,
                company,
                company,
                Stage::Intention,
                park_visit_end,
            )
        })?;
    }
    b.move_to(Move {
        note: Some(
            "Preliminary cooperation intention on the order class and the talent training plan.",
        ),
        visit: Some(&park_visit),
        ..Move::new(
            SubjectKind::OrderClass,
            &park_class,
            &park,
            Stage::Intention,
            park_visit_end,
        )
    })?;
    b.move_to(Move {
        note: Some("Jointly built internship training base proposed by Dong Xiaodan."),
        visit: Some(&park_visit),
        ..Move::new(
            SubjectKind::InternshipBase,
            &park_base,
            &park,
            Stage::Intention,
            park_visit_end,
        )
    })?;
    // Invented for the demo: how the other partners came on record, and the talks
    // that led to the two agreements of 2025.
    let came_on_record = [
        (
            SubjectKind::Enterprise,
            &logistics,
            &logistics,
            "2025-01-14T02:00:00Z",
            "Invented for the demo: first contact at the college's logistics careers day.",
        ),
        (
            SubjectKind::InternshipBase,
            &cold_chain_base,
            &logistics,
            "2025-02-11T06:00:00Z",
            "Invented for the demo: an internship base proposed with the draft framework.",
        ),
        (
            SubjectKind::Enterprise,
            &hospital,
            &hospital,
            "2025-02-24T02:00:00Z",
            "Invented for the demo: the hospital asked for nursing graduates.",
        ),
        (
            SubjectKind::OrderClass,
            &nursing_class,
            &hospital,
            "2025-03-18T02:00:00Z",
            "Invented for the demo: the hospital proposed a nursing order class.",
        ),
        (
            SubjectKind::Enterprise,
            &machinery,
            &machinery,
            "2025-04-22T02:00:00Z",
            "Invented for the demo: the company asked about apprenticeships.",
        ),
        (
            SubjectKind::Enterprise,
            &association,
            &association,
            "2025-05-06T02:00:00Z",
            "Invented for the demo: the association asked to meet the chemical majors.",
        ),
        (
            SubjectKind::Enterprise,
            &government,
            &government,
            "2025-08-19T02:00:00Z",
            "Invented for the demo: the office offered to fund apprenticeship places.",
        ),
    ];
    for (kind, subject, enterprise, at, note) in came_on_record {
        b.move_to(Move {
            note: Some(note),
            ..Move::new(kind, subject, enterprise, Stage::Intention, instant(at)?)
        })?;
    }
    for (subject, at, note) in [
        (
            &logistics,
            "2025-02-11T06:00:00Z",
            "Invented for the demo: draft framework agreement exchanged.",
        ),
        (
            &hospital,
            "2025-04-08T02:00:00Z",
            "Invented for the demo: class size and placements under discussion.",
        ),
    ] {
        b.move_to(Move {
            note: Some(note),
            ..Move::new(
                SubjectKind::Enterprise,
                subject,
                subject,
                Stage::Negotiation,
                instant(at)?,
            )
        })?;
    }
    let cold_chain_signed = instant("2025-03-12T08:30:00Z")?;
    b.move_to(Move {
        note: Some("Framework agreement signed during the site visit."),
        visit: Some(&cold_chain_visit),
        agreement: Some(&framework),
        ..Move::new(
            SubjectKind::Enterprise,
            &logistics,
            &logistics,
            Stage::Agreement,
            cold_chain_signed,
        )
    })?;
    b.move_to(Move {
        note: Some("Internship base for logistics students under negotiation."),
        visit: Some(&cold_chain_visit),
        ..Move::new(
            SubjectKind::InternshipBase,
            &cold_chain_base,
            &logistics,
            Stage::Negotiation,
            cold_chain_signed,
        )
    })?;
    let nursing_signed = instant("2025-05-20T03:00:00Z")?;
    for (kind, subject) in [
        (SubjectKind::Enterprise, &hospital),
        (SubjectKind::OrderClass, &nursing_class),
    ] {
        b.move_to(Move {
            note: Some("Nursing order class agreement signed for the 2025 cohort."),
            visit: Some(&hospital_visit),
            agreement: Some(&nursing_agreement),
            ..Move::new(kind, subject, &hospital, Stage::Agreement, nursing_signed)
        })?;
    }
    b.move_to(Move {
        note: Some("42 students of the 2025 cohort enrolled; classes began."),
        agreement: Some(&nursing_agreement),
        ..Move::new(
            SubjectKind::OrderClass,
            &nursing_class,
            &hospital,
            Stage::Implementation,
            instant("2025-09-01T01:00:00Z")?,
        )
    })?;
    b.move_to(Move {
        note: Some("Invented for the demo: apprenticeship talks by telephone."),
        ..Move::new(
            SubjectKind::Enterprise,
            &machinery,
            &machinery,
            Stage::Negotiation,
            instant("2025-07-08T06:00:00Z")?,
        )
    })?;
    b.move_to(Move {
        note: Some("Invented for the demo: the office asked for a funding proposal."),
        ..Move::new(
            SubjectKind::Enterprise,
            &government,
            &government,
            Stage::Negotiation,
            instant("2025-10-14T02:00:00Z")?,
        )
    })?;
    Ok(r)
}

/// One stage move of the demo's history. The first move of an item records the
/// stage it was put on record at (no `from_stage`) when that is `intention`.
struct Move<'a> {
    kind: SubjectKind,
    subject: &'a String,
    enterprise: &'a String,
    to: Stage,
    occurred_at: NaiveDateTime,
    note: Option<&'a str>,
    visit: Option<&'a String>,
    agreement: Option<&'a String>,
}

impl<'a> Move<'a> {
    fn new(
        kind: SubjectKind,
        subject: &'a String,
        enterprise: &'a String,
        to: Stage,
        occurred_at: NaiveDateTime,
    ) -> Self {
        Move {
            kind,
            subject,
            enterprise,
            to,
            occurred_at,
            note: None,
            visit: None,
            agreement: None,
        }
    }
}

/// Fills the columns every demo row shares (ids, keys, stamps).
struct Builder<'a> {
    now: NaiveDateTime,
    r: &'a mut Records,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn enterprise(
        &mut self,
        name: &str,
        kind: EnterpriseKind,
        parent: Option<&String>,
        industry: &str,
        code_body: Option<&str>,
        description: &str,
    ) -> Result<String, SeedError> {
        let credit_code = code_body
            .map(|body| {
                CreditCode::complete(body)
                    .map(|c| c.to_string())
                    .ok_or_else(|| SeedError::Data(format!("credit code body {body} of {name}")))
            })
            .transpose()?;
        let id = EnterpriseId::generate().to_string();
        self.r.enterprises.push(EnterpriseRow {
            id: id.clone(),
            name: name.into(),
            name_key: name::key(name),
            credit_code,
            kind: kind.as_str(),
            industry: Some(industry.into()),
            region: Some("Shanghai".into()),
            address: None,
            website: None,
            description: Some(description.into()),
            parent_id: parent.cloned(),
            stage: Stage::Intention.as_str(),
            stage_changed_at: self.now,
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        });
        Ok(id)
    }

    fn person(
        &mut self,
        side: Side,
        enterprise: Option<&String>,
        full_name: &str,
        title: &str,
        department: Option<&str>,
        notes: Option<&str>,
    ) -> String {
        let id = ParticipantId::generate().to_string();
        self.r.participants.push(ParticipantRow {
            id: id.clone(),
            full_name: full_name.into(),
            name_key: name::key(full_name),
            side: side.as_str(),
            enterprise_id: enterprise.cloned(),
            title: Some(title.into()),
            department: department.map(Into::into),
            email: None,
            phone: None,
            notes: notes.map(Into::into),
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        });
        id
    }

    fn school(
        &mut self,
        full_name: &str,
        title: &str,
        department: &str,
        notes: Option<&str>,
    ) -> String {
        self.person(
            Side::School,
            None,
            full_name,
            title,
            Some(department),
            notes,
        )
    }

    fn partner(
        &mut self,
        enterprise: &String,
        full_name: &str,
        title: &str,
        department: Option<&str>,
        notes: Option<&str>,
    ) -> String {
        self.person(
            Side::Partner,
            Some(enterprise),
            full_name,
            title,
            department,
            notes,
        )
    }

    fn order_class_defaults(&self) -> OrderClassRow {
        OrderClassRow {
            id: OrderClassId::generate().to_string(),
            enterprise_id: String::new(),
            name: String::new(),
            name_key: String::new(),
            major: None,
            cohort_year: None,
            planned_size: 0,
            enrolled_count: 0,
            employed_count: 0,
            allow_over_enrollment: 0,
            starts_on: None,
            ends_on: None,
            description: None,
            stage: Stage::Intention.as_str(),
            stage_changed_at: self.now,
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        }
    }

    fn order_class(&mut self, row: OrderClassRow) -> String {
        let id = row.id.clone();
        let name_key = name::key(&row.name);
        self.r.order_classes.push(OrderClassRow { name_key, ..row });
        id
    }

    fn internship_base_defaults(&self) -> InternshipBaseRow {
        InternshipBaseRow {
            id: InternshipBaseId::generate().to_string(),
            enterprise_id: String::new(),
            name: String::new(),
            name_key: String::new(),
            location: None,
            capacity: 0,
            positions: 0,
            description: None,
            stage: Stage::Intention.as_str(),
            stage_changed_at: self.now,
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        }
    }

    fn internship_base(&mut self, row: InternshipBaseRow) -> String {
        let id = row.id.clone();
        let name_key = name::key(&row.name);
        self.r
            .internship_bases
            .push(InternshipBaseRow { name_key, ..row });
        id
    }

    fn agreement_defaults(&self) -> AgreementRow {
        AgreementRow {
            id: AgreementId::generate().to_string(),
            enterprise_id: String::new(),
            order_class_id: None,
            internship_base_id: None,
            title: String::new(),
            title_key: String::new(),
            number: None,
            kind: "other",
            signed_on: None,
            valid_from: self.now.date(),
            valid_until: None,
            document_url: None,
            notes: None,
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        }
    }

    fn agreement(&mut self, row: AgreementRow) -> String {
        let id = row.id.clone();
        let title_key = name::key(&row.title);
        self.r.agreements.push(AgreementRow { title_key, ..row });
        id
    }

    fn visit_defaults(&self) -> VisitRow {
        VisitRow {
            id: VisitId::generate().to_string(),
            title: String::new(),
            starts_at: self.now,
            ends_at: None,
            direction: "inbound",
            location: None,
            purpose: None,
            summary: None,
            outcome: None,
            follow_up: None,
            follow_up_due: None,
            status: "planned",
            search_text: String::new(),
            created_at: self.now,
            updated_at: self.now,
            version: 1,
        }
    }

    /// A visit with its links; each link carries the visit's `starts_at`.
    fn visit(
        &mut self,
        row: VisitRow,
        enterprises: &[&String],
        participants: &[(&String, &'static str)],
        order_classes: &[&String],
        bases: &[&String],
    ) -> String {
        let id = row.id.clone();
        let starts_at = row.starts_at;
        for enterprise in enterprises {
            self.r.visit_enterprises.push(VisitEnterpriseRow {
                visit_id: id.clone(),
                enterprise_id: (*enterprise).clone(),
                starts_at,
            });
        }
        for (participant, role) in participants {
            self.r.visit_participants.push(VisitParticipantRow {
                visit_id: id.clone(),
                participant_id: (*participant).clone(),
                role,
                starts_at,
            });
        }
        for class in order_classes {
            self.r.visit_order_classes.push(VisitOrderClassRow {
                visit_id: id.clone(),
                order_class_id: (*class).clone(),
            });
        }
        for base in bases {
            self.r.visit_internship_bases.push(VisitInternshipBaseRow {
                visit_id: id.clone(),
                internship_base_id: (*base).clone(),
            });
        }
        let search_text = search_text([
            Some(&row.title),
            row.purpose.as_deref(),
            row.summary.as_deref(),
            row.outcome.as_deref(),
        ]);
        self.r.visits.push(VisitRow { search_text, ..row });
        id
    }

    /// Records a move and sets the item's `stage` and `stage_changed_at` to match,
    /// as a transition through the API would. Items start at `intention`; a first
    /// move to `intention` records how the item came on record.
    fn move_to(&mut self, m: Move<'_>) -> Result<(), SeedError> {
        let stage = match m.kind {
            SubjectKind::Enterprise => self
                .r
                .enterprises
                .iter_mut()
                .find(|e| &e.id == m.subject)
                .map(|e| (&mut e.stage, &mut e.stage_changed_at)),
            SubjectKind::OrderClass => self
                .r
                .order_classes
                .iter_mut()
                .find(|o| &o.id == m.subject)
                .map(|o| (&mut o.stage, &mut o.stage_changed_at)),
            SubjectKind::InternshipBase => self
                .r
                .internship_bases
                .iter_mut()
                .find(|b| &b.id == m.subject)
                .map(|b| (&mut b.stage, &mut b.stage_changed_at)),
        };
        let (stage, changed_at) =
            stage.ok_or_else(|| SeedError::Data(format!("no {} {}", m.kind, m.subject)))?;
        let first = !self
            .r
            .stage_transitions
            .iter()
            .any(|t| &t.subject_id == m.subject);
        let from_stage = if first && m.to == Stage::Intention {
            None
        } else {
            Some(*stage)
        };
        *stage = m.to.as_str();
        *changed_at = m.occurred_at;
        self.r.stage_transitions.push(StageTransitionRow {
            id: TransitionId::generate().to_string(),
            subject_kind: m.kind.as_str(),
            subject_id: m.subject.clone(),
            enterprise_id: m.enterprise.clone(),
            from_stage,
            to_stage: m.to.as_str(),
            occurred_at: m.occurred_at,
            recorded_at: self.now,
            actor: None,
            note: m.note.map(Into::into),
            visit_id: m.visit.cloned(),
            agreement_id: m.agreement.cloned(),
        });
        Ok(())
    }
}

fn date(year: i32, month: u32, day: u32) -> Result<NaiveDate, SeedError> {
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| SeedError::Data(format!("no such date {year}-{month}-{day}")))
}

fn instant(rfc3339: &str) -> Result<NaiveDateTime, SeedError> {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.naive_utc())
        .map_err(|e| SeedError::Data(format!("{rfc3339}: {e}")))
}

/// 10:00 in Shanghai (02:00 UTC), `days` after `today`.
fn days_after(today: NaiveDate, days: u64) -> Result<NaiveDateTime, SeedError> {
    today
        .checked_add_days(Days::new(days))
        .and_then(|d| d.and_hms_opt(2, 0, 0))
        .ok_or_else(|| SeedError::Data(format!("{days} days after {today}")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn demo_records() -> Records {
        records(domain::now().naive_utc()).expect("the demo builds")
    }

    #[test]
    fn records_pass_the_rules_a_client_faces() {
        let r = demo_records();
        super::super::tests::assert_valid(&r);
        assert!(r.enterprises.iter().all(|e| e.credit_code.is_some()));
    }

    #[test]
    fn stage_history_follows_the_rules_and_matches_the_items() {
        use crate::domain::stage_machine::{self, Evidence};
        let now = domain::now().naive_utc();
        let r = records(now).expect("the demo builds");
        let mut items: Vec<(&str, SubjectKind, &str, &str, NaiveDateTime, i32)> = Vec::new();
        for e in &r.enterprises {
            items.push((
                &e.id,
                SubjectKind::Enterprise,
                &e.id,
                e.stage,
                e.stage_changed_at,
                0,
            ));
        }
        for o in &r.order_classes {
            items.push((
                &o.id,
                SubjectKind::OrderClass,
                &o.enterprise_id,
                o.stage,
                o.stage_changed_at,
                o.enrolled_count,
            ));
        }
        for b in &r.internship_bases {
            items.push((
                &b.id,
                SubjectKind::InternshipBase,
                &b.enterprise_id,
                b.stage,
                b.stage_changed_at,
                b.capacity,
            ));
        }
        let mut moved = 0;
        for (id, kind, enterprise, stage, changed_at, headcount) in items {
            let history: Vec<&StageTransitionRow> = r
                .stage_transitions
                .iter()
                .filter(|t| t.subject_id == id)
                .collect();
            let mut current = Stage::Intention;
            let mut last = None;
            for t in &history {
                assert_eq!(
                    (t.subject_kind, t.enterprise_id.as_str()),
                    (kind.as_str(), enterprise)
                );
                assert!(t.occurred_at < now && last.is_none_or(|l| l <= t.occurred_at));
                let to: Stage = t.to_stage.parse().expect("a stage");
                if let Some(from) = t.from_stage {
                    assert_eq!(from, current.as_str(), "{id}");
                    let direction = stage_machine::direction(current, to).expect("an allowed move");
                    let evidence = Evidence {
                        note: t.note.is_some(),
                        agreement: t.agreement_id.is_some(),
                        headcount,
                    };
                    assert!(
                        stage_machine::missing(kind, direction, to, &evidence).is_empty(),
                        "{id} → {to}"
                    );
                } else {
                    assert_eq!(
                        (to, last),
                        (Stage::Intention, None),
                        "only a first move starts nowhere"
                    );
                }
                if let Some(visit) = &t.visit_id {
                    assert!(r
                        .visit_enterprises
                        .iter()
                        .any(|l| &l.visit_id == visit && l.enterprise_id == enterprise));
                }
                if let Some(agreement) = &t.agreement_id {
                    let a = r
                        .agreements
                        .iter()
                        .find(|a| &a.id == agreement)
                        .expect("the agreement");
                    assert_eq!(a.enterprise_id, enterprise);
                    let covered = match kind {
                        SubjectKind::Enterprise => None,
                        SubjectKind::OrderClass => Some(&a.order_class_id),
                        SubjectKind::InternshipBase => Some(&a.internship_base_id),
                    };
                    assert!(
                        covered.is_none_or(|c| c.as_deref() == Some(id)),
                        "{agreement} covers {id}"
                    );
                }
                current = to;
                last = Some(t.occurred_at);
                moved += 1;
            }
            assert_eq!(
                stage,
                current.as_str(),
                "{id}: the stage is that of the last move"
            );
            assert_eq!(changed_at, last.unwrap_or(now), "{id}");
        }
        assert_eq!(moved, r.stage_transitions.len());
        let reached: HashSet<&str> = r.stage_transitions.iter().map(|t| t.to_stage).collect();
        for stage in ["intention", "negotiation", "agreement", "implementation"] {
            assert!(reached.contains(stage), "{stage}");
        }
    }

    #[test]
    fn visits_are_consistent_with_time_and_links() {
        let now = domain::now().naive_utc();
        let r = records(now).expect("the demo builds");
        let partner_of: std::collections::HashMap<&String, &String> = r
            .participants
            .iter()
            .filter_map(|p| p.enterprise_id.as_ref().map(|e| (&p.id, e)))
            .collect();
        let parent_of: std::collections::HashMap<&String, &String> = r
            .enterprises
            .iter()
            .filter_map(|e| e.parent_id.as_ref().map(|p| (&e.id, p)))
            .collect();
        for v in &r.visits {
            assert!(v.ends_at.is_none_or(|end| end > v.starts_at), "{}", v.title);
            match v.status {
                "held" | "cancelled" => assert!(v.starts_at < now, "{}", v.title),
                _ => assert!(v.starts_at > now, "{}", v.title),
            }
            let enterprises: HashSet<&String> = r
                .visit_enterprises
                .iter()
                .filter(|l| l.visit_id == v.id)
                .map(|l| &l.enterprise_id)
                .collect();
            assert!(!enterprises.is_empty(), "{}", v.title);
            for link in r.visit_participants.iter().filter(|l| l.visit_id == v.id) {
                assert_eq!(link.starts_at, v.starts_at);
                if let Some(enterprise) = partner_of.get(&link.participant_id) {
                    let reach = enterprises.contains(enterprise)
                        || parent_of
                            .get(enterprise)
                            .is_some_and(|p| enterprises.contains(p));
                    assert!(reach, "{}: {} not affiliated", v.title, link.participant_id);
                }
            }
        }
    }
}
