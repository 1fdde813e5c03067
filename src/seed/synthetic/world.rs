//! The synthetic data set's standing records: enterprises (parks with member
//! companies), their people, the college's staff, order classes, internship bases
//! and agreements, all drawn from one seeded generator.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta};
use fastrand::Rng;

use super::super::words::{self, INDUSTRIES, PLACES};
use super::super::{id_at, Records, SeedError};
use super::history::{self, Histories};
use super::names::{person_name, two_syllables, Names};
use super::{pick, weighted, Options};
use crate::db::bulk::{
    AgreementRow, EnterpriseRow, InternshipBaseRow, OrderClassRow, ParticipantRow, TakenNames,
};
use crate::domain::enterprise::EnterpriseKind;
use crate::domain::name;
use crate::domain::participant::Side;
use crate::domain::stage::Stage;
use crate::domain::stage_machine::SubjectKind;
use uuid::Uuid;

/// Share of enterprises that are industrial parks.
const PARK_SHARE: f64 = 0.10;
/// Share of companies that sit inside a park.
const MEMBER_SHARE: f64 = 0.45;
/// Share of enterprises that have a credit code on record.
const CREDIT_CODE_SHARE: f64 = 0.90;
/// The oldest partnership starts this many days before `today`; the newest a year before.
pub const HISTORY_DAYS: i64 = 5 * 365;
const NEWEST_DAYS: i64 = 365;
/// Nothing is linked in a partnership's first days: its records are entered first.
pub const SETTLE_DAYS: i64 = 31;

/// An enterprise and what the visit generator needs to know about it.
pub struct Enterprise {
    /// Its row in `Records::enterprises`.
    pub row: usize,
    pub kind: EnterpriseKind,
    /// When the partnership was entered; nothing of it happens earlier.
    pub since: NaiveDateTime,
    pub parent: Option<usize>,
    pub members: Vec<usize>,
    /// Short name for titles ("恒瑞化工").
    pub short: String,
    pub address: String,
    /// Rows in `Records::participants`, with when each was entered.
    pub people: Vec<(usize, NaiveDateTime)>,
    pub order_classes: Vec<(usize, NaiveDateTime)>,
    pub internship_bases: Vec<(usize, NaiveDateTime)>,
    major: &'static str,
    industry: &'static str,
    domain: String,
}

/// The standing records and the indexes the visit generator draws from.
pub struct World {
    pub today: NaiveDateTime,
    pub records: Records,
    pub enterprises: Vec<Enterprise>,
    /// College staff who may host a visit (leaders, office heads, deans).
    pub school_hosts: Vec<usize>,
    /// All college staff.
    pub school_staff: Vec<usize>,
    /// Mixed into every id: zero for a run into an empty database, so that ids
    /// repeat with the seed; random for a forced run, so that a run repeated beside
    /// its own earlier output makes new ids.
    pub id_salt: [u8; 10],
}

impl World {
    /// Builds every standing record; `taken` names and credit codes are avoided.
    pub fn generate(
        options: &Options,
        rng: &mut Rng,
        taken: &TakenNames,
    ) -> Result<Self, SeedError> {
        let today = options
            .today
            .and_hms_opt(0, 0, 0)
            .ok_or_else(|| SeedError::Data(format!("midnight of {}", options.today)))?;
        let mut world = World {
            today,
            records: Records::default(),
            enterprises: Vec::with_capacity(options.enterprises),
            school_hosts: Vec::new(),
            school_staff: Vec::new(),
            id_salt: if options.force {
                random_bytes(&mut Rng::new())
            } else {
                [0; 10]
            },
        };
        let mut names = Names {
            keys: taken.name_keys.clone(),
            codes: taken.credit_codes.clone(),
        };
        world.add_enterprises(options.enterprises, rng, &mut names)?;
        world.add_partner_people(rng);
        world.add_school_staff(options.enterprises, rng);
        let order_classes = options.enterprises.div_ceil(4);
        world.add_order_classes(order_classes, rng)?;
        world.add_internship_bases(options.enterprises.div_ceil(4), rng);
        let histories = history::draw(&mut world, rng)?;
        world.add_agreements(options.enterprises / 2, rng, &histories)?;
        world.records.stage_transitions = history::rows(&world, &histories, rng)?;
        Ok(world)
    }

    /// A time-ordered id for a record created at `at`.
    pub fn id_at(&self, at: NaiveDateTime, rng: &mut Rng) -> Uuid {
        let mut random = random_bytes(rng);
        for (byte, salt) in random.iter_mut().zip(self.id_salt) {
            *byte ^= salt;
        }
        id_at(at, random)
    }

    fn add_enterprises(
        &mut self,
        count: usize,
        rng: &mut Rng,
        names: &mut Names,
    ) -> Result<(), SeedError> {
        let parks = (count as f64 * PARK_SHARE).round() as usize;
        for i in 0..count {
            let kind = if i < parks {
                EnterpriseKind::IndustrialPark
            } else {
                weighted(
                    rng,
                    &[
                        (EnterpriseKind::Company, 80),
                        (EnterpriseKind::Institution, 8),
                        (EnterpriseKind::Association, 6),
                        (EnterpriseKind::Government, 6),
                    ],
                )
            };
            let parent = (kind == EnterpriseKind::Company && parks > 0 && rng.f64() < MEMBER_SHARE)
                .then(|| rng.usize(..parks));
            self.add_enterprise(kind, parent, rng, names)?;
        }
        Ok(())
    }

    fn add_enterprise(
        &mut self,
        kind: EnterpriseKind,
        parent: Option<usize>,
        rng: &mut Rng,
        names: &mut Names,
    ) -> Result<(), SeedError> {
        // A member company is usually in its park's place and industry.
        let (place, industry) = match parent {
            Some(p) if rng.f64() < 0.7 => {
                let park = &self.records.enterprises[self.enterprises[p].row];
                let place = PLACES
                    .iter()
                    .find(|pl| Some(pl.region) == park.region.as_deref())
                    .unwrap_or(&PLACES[0]);
                let industry = INDUSTRIES
                    .iter()
                    .position(|ind| Some(ind.label) == park.industry.as_deref())
                    .unwrap_or(0);
                (place, industry)
            }
            _ => (pick(rng, PLACES), rng.usize(..INDUSTRIES.len())),
        };
        let industry = &INDUSTRIES[industry];
        let (name, short, trade_pinyin) = names.unique_name(rng, kind, place, industry)?;
        let (industry_label, major) = match kind {
            EnterpriseKind::Institution => {
                let label = words::INSTITUTION_TYPES
                    .iter()
                    .find(|(t, _)| name.ends_with(t))
                    .map(|(_, label)| *label)
                    .unwrap_or("医疗卫生");
                let major = if label == "医疗卫生" {
                    "护理"
                } else {
                    industry.major
                };
                (label, major)
            }
            EnterpriseKind::Government => ("公共管理", industry.major),
            _ => (industry.label, industry.major),
        };
        let since_days = rng.i64(NEWEST_DAYS..=HISTORY_DAYS);
        let since = self.today - TimeDelta::days(since_days) + working_hours(rng);
        let since = match parent {
            // A member is entered no earlier than its park.
            Some(p) => since.max(self.enterprises[p].since),
            None => since,
        };
        let address = format!(
            "{}市{}{}{}号",
            place.name,
            two_syllables(rng).0,
            pick(rng, words::STREETS),
            rng.u32(1..=999)
        );
        let credit_code = if rng.f64() < CREDIT_CODE_SHARE {
            Some(names.unique_code(rng, kind, place)?)
        } else {
            None
        };
        let domain = format!("{trade_pinyin}.example.com");
        let website = (kind != EnterpriseKind::Government && rng.f64() < 0.5)
            .then(|| format!("https://www.{domain}"));
        let description = (rng.f64() < 0.4).then(|| match kind {
            EnterpriseKind::IndustrialPark => format!(
                "{name}重点发展{}产业，为入园企业提供人才与政策服务。",
                industry.label
            ),
            EnterpriseKind::Company => format!(
                "{name}主要从事{}相关业务，长期招聘{major}专业毕业生。",
                industry.label
            ),
            EnterpriseKind::Association => format!(
                "{name}由本地区{}企业组成，承担行业人才需求调研。",
                industry.label
            ),
            EnterpriseKind::Government => format!("{name}负责辖区产业发展与人才政策。"),
            EnterpriseKind::Institution => format!("{name}接收{major}专业学生实习。"),
        });
        let stage = weighted(
            rng,
            &[
                (Stage::Intention, 40),
                (Stage::Negotiation, 25),
                (Stage::Agreement, 12),
                (Stage::Implementation, 10),
                (Stage::Completed, 3),
                (Stage::Terminated, 10),
            ],
        );
        let row = self.records.enterprises.len();
        self.records.enterprises.push(EnterpriseRow {
            id: self.id_at(since, rng).to_string(),
            name_key: name::key(&name),
            name,
            credit_code,
            kind: kind.as_str(),
            industry: Some(industry_label.to_string()),
            region: Some(place.region.to_string()),
            address: Some(address.clone()),
            website,
            description,
            parent_id: parent.map(|p| self.records.enterprises[self.enterprises[p].row].id.clone()),
            stage: stage.as_str(),
            stage_changed_at: since,
            created_at: since,
            updated_at: since,
            version: 1,
        });
        let index = self.enterprises.len();
        if let Some(p) = parent {
            self.enterprises[p].members.push(index);
        }
        self.enterprises.push(Enterprise {
            row,
            kind,
            since,
            parent,
            members: Vec::new(),
            short,
            address,
            people: Vec::new(),
            order_classes: Vec::new(),
            internship_bases: Vec::new(),
            major,
            industry: industry.label,
            domain,
        });
        Ok(())
    }

    /// Two to four people per enterprise, entered within a month of it.
    fn add_partner_people(&mut self, rng: &mut Rng) {
        for e in 0..self.enterprises.len() {
            let titles = match self.enterprises[e].kind {
                EnterpriseKind::Company => words::COMPANY_TITLES,
                EnterpriseKind::IndustrialPark => words::PARK_TITLES,
                EnterpriseKind::Association => words::ASSOCIATION_TITLES,
                EnterpriseKind::Government => words::GOVERNMENT_TITLES,
                EnterpriseKind::Institution => words::INSTITUTION_TITLES,
            };
            for _ in 0..rng.usize(2..=4) {
                let enterprise = &self.enterprises[e];
                let created = enterprise.since + TimeDelta::minutes(rng.i64(10..=30 * 24 * 60));
                let (title, department) = *pick(rng, titles);
                let (full_name, pinyin) = person_name(rng);
                let email = (rng.f64() < 0.6).then(|| format!("{pinyin}@{}", enterprise.domain));
                let row = self.push_person(
                    rng,
                    Side::Partner,
                    Some(self.records.enterprises[enterprise.row].id.clone()),
                    full_name,
                    title,
                    department,
                    email,
                    created,
                );
                self.enterprises[e].people.push((row, created));
            }
        }
    }

    /// About one staff member per ten enterprises (at least the leadership and
    /// the cooperation office), entered before any partnership.
    fn add_school_staff(&mut self, enterprises: usize, rng: &mut Rng) {
        let created = self.today - TimeDelta::days(HISTORY_DAYS + 30);
        let count = (enterprises / 10).max(words::SCHOOL_LEADERS.len());
        for i in 0..count {
            let (title, department) = match words::SCHOOL_LEADERS.get(i) {
                Some(leader) => *leader,
                None => {
                    let n = i - words::SCHOOL_LEADERS.len();
                    let departments = words::SCHOOL_DEPARTMENTS;
                    let department = departments[n % departments.len()];
                    // Each school's dean and vice-dean come first, then its teachers.
                    let title = match n / departments.len() {
                        0 => words::SCHOOL_TITLES[0],
                        1 => words::SCHOOL_TITLES[1],
                        _ => *pick(rng, &words::SCHOOL_TITLES[2..]),
                    };
                    (title, department)
                }
            };
            let (full_name, pinyin) = person_name(rng);
            let email = (rng.f64() < 0.8).then(|| format!("{pinyin}@college.example.org"));
            let row = self.push_person(
                rng,
                Side::School,
                None,
                full_name,
                title,
                department,
                email,
                created,
            );
            let hosts = !matches!(title, "科员" | "专业带头人" | "专业教师" | "辅导员");
            if hosts {
                self.school_hosts.push(row);
            }
            self.school_staff.push(row);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_person(
        &mut self,
        rng: &mut Rng,
        side: Side,
        enterprise_id: Option<String>,
        full_name: String,
        title: &str,
        department: &str,
        email: Option<String>,
        created: NaiveDateTime,
    ) -> usize {
        self.records.participants.push(ParticipantRow {
            id: self.id_at(created, rng).to_string(),
            name_key: name::key(&full_name),
            full_name,
            side: side.as_str(),
            enterprise_id,
            title: Some(title.to_string()),
            department: Some(department.to_string()),
            email,
            phone: None,
            notes: None,
            created_at: created,
            updated_at: created,
            version: 1,
        });
        self.records.participants.len() - 1
    }

    /// A random moment of the partnership's settled history, before today.
    fn moment_of(&self, e: usize, rng: &mut Rng) -> NaiveDateTime {
        let since = self.enterprises[e].since;
        let first = (since.date() - self.today.date()).num_days() + SETTLE_DAYS;
        self.today + TimeDelta::days(rng.i64(first..=-1)) + working_hours(rng)
    }

    /// Picks a sponsor for an item: companies, parks and institutions train students.
    fn sponsor(&self, rng: &mut Rng) -> usize {
        for _ in 0..20 {
            let e = rng.usize(..self.enterprises.len());
            if matches!(
                self.enterprises[e].kind,
                EnterpriseKind::Company
                    | EnterpriseKind::IndustrialPark
                    | EnterpriseKind::Institution
            ) {
                return e;
            }
        }
        rng.usize(..self.enterprises.len())
    }

    fn add_order_classes(&mut self, count: usize, rng: &mut Rng) -> Result<(), SeedError> {
        let year = self.today.year();
        for _ in 0..count {
            let e = self.sponsor(rng);
            let created = self.moment_of(e, rng);
            let stage = weighted(
                rng,
                &[
                    (Stage::Intention, 30),
                    (Stage::Negotiation, 20),
                    (Stage::Agreement, 15),
                    (Stage::Implementation, 20),
                    (Stage::Completed, 10),
                    (Stage::Terminated, 5),
                ],
            );
            // A class in progress started in the last three years; a completed one
            // ended before this year; a planned one starts this year or next.
            let cohort = match stage {
                Stage::Implementation => year - rng.i32(0..=2),
                Stage::Completed => year - rng.i32(4..=6),
                Stage::Terminated => year - rng.i32(-1..=3),
                _ => year + rng.i32(0..=1),
            };
            let planned: i32 = rng.i32(4..=12) * 5;
            let (enrolled, employed) = match stage {
                Stage::Implementation => (planned * rng.i32(60..=100) / 100, 0),
                Stage::Completed => {
                    let enrolled = planned * rng.i32(60..=100) / 100;
                    (enrolled, enrolled * rng.i32(50..=100) / 100)
                }
                _ => (0, 0),
            };
            let enterprise = &self.enterprises[e];
            let name = format!("{}订单班（{cohort}级）", enterprise.short);
            let description = (rng.f64() < 0.3).then(|| {
                format!(
                    "面向{}{}岗位的订单式培养。",
                    enterprise.short, enterprise.major
                )
            });
            let row = OrderClassRow {
                id: self.id_at(created, rng).to_string(),
                enterprise_id: self.records.enterprises[enterprise.row].id.clone(),
                name_key: name::key(&name),
                name,
                major: Some(enterprise.major.to_string()),
                cohort_year: Some(cohort),
                planned_size: planned,
                enrolled_count: enrolled,
                employed_count: employed,
                allow_over_enrollment: 0,
                starts_on: Some(date(cohort, 9, 1)?),
                ends_on: Some(date(cohort + 3, 6, 30)?),
                description,
                stage: stage.as_str(),
                stage_changed_at: created,
                created_at: created,
                updated_at: created,
                version: 1,
            };
            self.records.order_classes.push(row);
            let index = self.records.order_classes.len() - 1;
            self.enterprises[e].order_classes.push((index, created));
        }
        Ok(())
    }

    fn add_internship_bases(&mut self, count: usize, rng: &mut Rng) {
        const ORDINALS: &[&str] = &["", "（二期）", "（三期）", "（四期）"];
        for _ in 0..count {
            let e = self.sponsor(rng);
            let created = self.moment_of(e, rng);
            let stage = weighted(
                rng,
                &[
                    (Stage::Intention, 30),
                    (Stage::Negotiation, 20),
                    (Stage::Agreement, 15),
                    (Stage::Implementation, 25),
                    (Stage::Completed, 5),
                    (Stage::Terminated, 5),
                ],
            );
            let capacity = match stage {
                Stage::Intention | Stage::Negotiation if rng.bool() => 0,
                _ => rng.i32(2..=24) * 5,
            };
            let positions = if capacity == 0 {
                0
            } else {
                rng.i32(1..=(capacity / 5).max(1))
            };
            let enterprise = &self.enterprises[e];
            let ordinal = ORDINALS
                .get(enterprise.internship_bases.len())
                .copied()
                .unwrap_or("");
            let name = format!("{}实习实训基地{ordinal}", enterprise.short);
            let row = InternshipBaseRow {
                id: self.id_at(created, rng).to_string(),
                enterprise_id: self.records.enterprises[enterprise.row].id.clone(),
                name_key: name::key(&name),
                name,
                location: Some(enterprise.address.clone()),
                capacity,
                positions,
                description: (rng.f64() < 0.3)
                    .then(|| format!("提供{}相关实习岗位{positions}个。", enterprise.industry)),
                stage: stage.as_str(),
                stage_changed_at: created,
                created_at: created,
                updated_at: created,
                version: 1,
            };
            self.records.internship_bases.push(row);
            let index = self.records.internship_bases.len() - 1;
            self.enterprises[e].internship_bases.push((index, created));
        }
    }

    /// The agreements that back every enterprise, order class and base at
    /// `agreement` or beyond, signed when its history first needed one, then other
    /// agreements up to `target`.
    fn add_agreements(
        &mut self,
        target: usize,
        rng: &mut Rng,
        histories: &Histories,
    ) -> Result<(), SeedError> {
        let signed = |stage: &str| matches!(stage, "agreement" | "implementation" | "completed");
        let mut serial = 0usize;
        let mut add = |world: &mut World,
                       rng: &mut Rng,
                       enterprise_id: String,
                       kind: &'static str,
                       item: (Option<String>, Option<String>),
                       title: String,
                       created: NaiveDateTime|
         -> Result<(), SeedError> {
            serial += 1;
            let signed_on = created.date();
            let valid_from = add_days(signed_on, rng.u64(0..=30))?;
            let valid_until = if rng.f64() < 0.1 {
                None
            } else {
                let years = *pick(rng, &[1u32, 2, 3, 3, 5]);
                let end = valid_from
                    .checked_add_months(chrono::Months::new(12 * years))
                    .and_then(|d| d.pred_opt())
                    .ok_or_else(|| SeedError::Data(format!("{years} years after {valid_from}")))?;
                Some(end)
            };
            let number = format!("XQHZ-{}-{serial:06}", signed_on.year());
            world.records.agreements.push(AgreementRow {
                id: world.id_at(created, rng).to_string(),
                enterprise_id,
                order_class_id: item.0,
                internship_base_id: item.1,
                title_key: name::key(&title),
                title,
                document_url: rng
                    .bool()
                    .then(|| format!("https://docs.example.com/agreements/{number}.pdf")),
                number: Some(number),
                kind,
                signed_on: Some(signed_on),
                valid_from,
                valid_until,
                notes: None,
                created_at: created,
                updated_at: created,
                version: 1,
            });
            Ok(())
        };
        for e in 0..self.records.enterprises.len() {
            let row = &self.records.enterprises[e];
            if signed(row.stage) {
                let (id, title, created) = (
                    row.id.clone(),
                    format!("{}校企合作框架协议", row.name),
                    histories
                        .signed_at(SubjectKind::Enterprise, e)
                        .unwrap_or(row.created_at),
                );
                add(self, rng, id, "framework", (None, None), title, created)?;
            }
        }
        for c in 0..self.records.order_classes.len() {
            let row = &self.records.order_classes[c];
            if signed(row.stage) {
                let (enterprise, item, title, created) = (
                    row.enterprise_id.clone(),
                    (Some(row.id.clone()), None),
                    format!("{}合作协议", row.name),
                    histories
                        .signed_at(SubjectKind::OrderClass, c)
                        .unwrap_or(row.created_at),
                );
                add(self, rng, enterprise, "order_class", item, title, created)?;
            }
        }
        for b in 0..self.records.internship_bases.len() {
            let row = &self.records.internship_bases[b];
            if signed(row.stage) {
                let (enterprise, item, title, created) = (
                    row.enterprise_id.clone(),
                    (None, Some(row.id.clone())),
                    format!("{}共建协议", row.name),
                    histories
                        .signed_at(SubjectKind::InternshipBase, b)
                        .unwrap_or(row.created_at),
                );
                add(
                    self,
                    rng,
                    enterprise,
                    "internship_base",
                    item,
                    title,
                    created,
                )?;
            }
        }
        const OTHER: &[&str] = &[
            "技术服务协议",
            "设备捐赠协议",
            "现代学徒制培养协议",
            "师资互聘协议",
        ];
        while self.records.agreements.len() < target {
            let e = rng.usize(..self.enterprises.len());
            let created = self.moment_of(e, rng);
            let row = &self.records.enterprises[self.enterprises[e].row];
            let (id, title) = (row.id.clone(), format!("{}{}", row.name, pick(rng, OTHER)));
            add(self, rng, id, "other", (None, None), title, created)?;
        }
        Ok(())
    }
}

/// An offset into the college's working day: 09:00 to 15:30 in China (UTC+8).
pub fn working_hours(rng: &mut Rng) -> TimeDelta {
    TimeDelta::minutes(60 + 30 * rng.i64(0..=13))
}

pub fn random_bytes(rng: &mut Rng) -> [u8; 10] {
    let mut bytes = [0u8; 10];
    rng.fill(&mut bytes);
    bytes
}

fn date(year: i32, month: u32, day: u32) -> Result<NaiveDate, SeedError> {
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| SeedError::Data(format!("no such date {year}-{month}-{day}")))
}

fn add_days(day: NaiveDate, days: u64) -> Result<NaiveDate, SeedError> {
    day.checked_add_days(Days::new(days))
        .ok_or_else(|| SeedError::Data(format!("{days} days after {day}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_pass_the_rules_a_client_faces() {
        let options = Options {
            enterprises: 500,
            rng_seed: 3,
            force: false,
            today: NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date"),
        };
        let world = World::generate(&options, &mut Rng::with_seed(3), &TakenNames::default())
            .expect("generates");
        super::super::super::tests::assert_valid(&world.records);
        let r = &world.records;
        assert_eq!(r.enterprises.len(), 500);
        assert_eq!(
            (r.order_classes.len(), r.internship_bases.len()),
            (125, 125)
        );
        assert!(r.agreements.len() >= 250);
        let parks = r
            .enterprises
            .iter()
            .filter(|e| e.kind == "industrial_park")
            .count();
        assert_eq!(parks, 50);
        let members = r
            .enterprises
            .iter()
            .filter(|e| e.parent_id.is_some())
            .count();
        assert!((100..=250).contains(&members), "{members} members");
        let coded = r
            .enterprises
            .iter()
            .filter(|e| e.credit_code.is_some())
            .count();
        assert!(coded > 400, "most enterprises have a credit code: {coded}");
        for c in &r.order_classes {
            assert!(c.enrolled_count <= c.planned_size && c.employed_count <= c.enrolled_count);
            assert!(
                c.stage != "implementation" || c.enrolled_count > 0,
                "{}",
                c.name
            );
        }
        for b in &r.internship_bases {
            assert!(b.stage != "implementation" || b.capacity > 0, "{}", b.name);
        }
        for a in &r.agreements {
            assert!(a.valid_until.is_none_or(|until| until >= a.valid_from));
        }
    }
}
