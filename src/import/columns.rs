//! The documented header of each kind of import file: which columns there are, what
//! each holds, and the Chinese and English names it is known by.

use crate::cli::RecordKind;

/// What a column's cells hold, and so how a cell becomes a member of the API body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The record's own id: kept when the record is created, matched when it exists.
    Id,
    Text,
    Integer,
    /// `true`/`false`, `yes`/`no`, `1`/`0`, `是`/`否`.
    Boolean,
    /// `YYYY-MM-DD`; `YYYY/MM/DD` and `YYYY.MM.DD` too.
    Date,
    /// RFC 3339; without an offset, in the import's `--utc-offset`.
    DateTime,
    /// One of a vocabulary, given as its value or as its Chinese label.
    Choice(&'static [(&'static str, &'static str)]),
    /// A reference to one record.
    Reference(Target),
    /// References to several records: a JSON list (as exported) or a list separated
    /// by `;`, `；` or line breaks.
    References(Target),
    /// A visit's participants with their roles: a JSON list of objects (as exported),
    /// or `name-or-id:role` items separated like `References`.
    Participants,
    /// A read-only member an export writes (timestamps, versions, computed stages)
    /// or the error column of a rejects file: recognised and left unread.
    Ignored,
}

/// The kind of record a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// By id, unified social credit code, or exact (normalised) name.
    Enterprise,
    /// By id, e-mail, or exact (normalised) full name.
    Participant,
    /// By id or name; a name is looked up among the row's enterprises first.
    OrderClass,
    /// By id or name, like an order class.
    InternshipBase,
    /// By id, number or title.
    Agreement,
    /// By id.
    Visit,
}

impl Target {
    pub fn noun(self) -> &'static str {
        match self {
            Target::Enterprise => "enterprise",
            Target::Participant => "participant",
            Target::OrderClass => "order class",
            Target::InternshipBase => "internship base",
            Target::Agreement => "agreement",
            Target::Visit => "visit",
        }
    }
}

/// One column of an import file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The member of the API's create body that the column fills; also its English
    /// header.
    pub field: &'static str,
    /// Other headers accepted for it: the export's name when that differs, and the
    /// Chinese ones.
    pub aliases: &'static [&'static str],
    pub cell: Cell,
}

const fn column(field: &'static str, aliases: &'static [&'static str], cell: Cell) -> Column {
    Column {
        field,
        aliases,
        cell,
    }
}

/// The column every rejects file adds, so that the file imports again as it is.
pub const ERRORS: &str = "import_errors";

const ERRORS_COLUMN: Column = column(ERRORS, &["导入错误"], Cell::Ignored);

/// Whether a header names the rejects file's error column.
pub fn is_errors(header: &str) -> bool {
    find(&[ERRORS_COLUMN], header).is_some()
}

/// Read-only members the exports write, and the rejects file's error column.
const READ_ONLY: [Column; 7] = [
    column("stage_changed_at", &["阶段变更时间"], Cell::Ignored),
    column("created_at", &["创建时间"], Cell::Ignored),
    column("updated_at", &["更新时间"], Cell::Ignored),
    column("version", &["版本"], Cell::Ignored),
    column("archived_at", &["归档时间"], Cell::Ignored),
    ERRORS_COLUMN,
    column("id", &["记录ID", "记录编号"], Cell::Id),
];

const ENTERPRISE_KINDS: &[(&str, &str)] = &[
    ("公司", "company"),
    ("企业", "company"),
    ("产业园区", "industrial_park"),
    ("园区", "industrial_park"),
    ("协会", "association"),
    ("行业协会", "association"),
    ("政府", "government"),
    ("政府部门", "government"),
    ("事业单位", "institution"),
    ("机构", "institution"),
];
const SIDES: &[(&str, &str)] = &[
    ("学校", "school"),
    ("校方", "school"),
    ("企业", "partner"),
    ("企业方", "partner"),
    ("合作方", "partner"),
];
const DIRECTIONS: &[(&str, &str)] = &[
    ("来访", "inbound"),
    ("走访", "outbound"),
    ("出访", "outbound"),
    ("线上", "online"),
];
const VISIT_STATUSES: &[(&str, &str)] = &[
    ("计划", "planned"),
    ("计划中", "planned"),
    ("已举行", "held"),
    ("已完成", "held"),
    ("取消", "cancelled"),
    ("已取消", "cancelled"),
];
const STAGES: &[(&str, &str)] = &[
    ("意向", "intention"),
    ("洽谈", "negotiation"),
    ("签约", "agreement"),
    ("协议", "agreement"),
    ("实施", "implementation"),
    ("完成", "completed"),
    ("终止", "terminated"),
];
const AGREEMENT_KINDS: &[(&str, &str)] = &[
    ("框架协议", "framework"),
    ("订单班", "order_class"),
    ("订单班协议", "order_class"),
    ("实习基地", "internship_base"),
    ("实习基地协议", "internship_base"),
    ("其他", "other"),
];

const ENTERPRISES: &[Column] = &[
    column("name", &["名称", "企业名称", "单位名称"], Cell::Text),
    column("credit_code", &["统一社会信用代码", "信用代码"], Cell::Text),
    column(
        "kind",
        &["类型", "单位类型"],
        Cell::Choice(ENTERPRISE_KINDS),
    ),
    column("industry", &["行业"], Cell::Text),
    column("region", &["地区", "区域"], Cell::Text),
    column("address", &["地址"], Cell::Text),
    column("website", &["网站", "网址"], Cell::Text),
    column("description", &["简介", "描述"], Cell::Text),
    column(
        "parent_id",
        &["parent", "上级单位", "所属园区", "上级企业"],
        Cell::Reference(Target::Enterprise),
    ),
    // Moved through transitions, not set on creation.
    column("stage", &["阶段"], Cell::Ignored),
];

const PARTICIPANTS: &[Column] = &[
    column("full_name", &["name", "姓名"], Cell::Text),
    column("side", &["所属方", "方"], Cell::Choice(SIDES)),
    column(
        "enterprise_id",
        &["enterprise", "企业", "单位", "所属单位"],
        Cell::Reference(Target::Enterprise),
    ),
    column("title", &["职务", "职位"], Cell::Text),
    column("department", &["部门"], Cell::Text),
    column("email", &["邮箱", "电子邮箱", "电子邮件"], Cell::Text),
    column("phone", &["电话", "手机", "联系电话"], Cell::Text),
    column("notes", &["备注"], Cell::Text),
];

const VISITS: &[Column] = &[
    column("title", &["标题", "主题"], Cell::Text),
    column("starts_at", &["开始时间"], Cell::DateTime),
    column("ends_at", &["结束时间"], Cell::DateTime),
    column("direction", &["方向", "类型"], Cell::Choice(DIRECTIONS)),
    column("location", &["地点"], Cell::Text),
    column("purpose", &["目的"], Cell::Text),
    column("summary", &["纪要", "摘要"], Cell::Text),
    column("outcome", &["成果", "结果"], Cell::Text),
    column("follow_up", &["后续事项", "跟进事项"], Cell::Text),
    column(
        "follow_up_due",
        &["后续截止日期", "跟进截止日期"],
        Cell::Date,
    ),
    column("status", &["状态"], Cell::Choice(VISIT_STATUSES)),
    column(
        "enterprise_ids",
        &["enterprises", "企业", "单位"],
        Cell::References(Target::Enterprise),
    ),
    column("participants", &["参与人", "参加人员"], Cell::Participants),
    column(
        "order_class_ids",
        &["order_classes", "订单班"],
        Cell::References(Target::OrderClass),
    ),
    column(
        "internship_base_ids",
        &["internship_bases", "实习基地"],
        Cell::References(Target::InternshipBase),
    ),
];

/// The initial-stage members of an order class's or base's create body.
const INITIAL_STAGE: [Column; 4] = [
    column("stage", &["阶段"], Cell::Choice(STAGES)),
    column("stage_note", &["阶段说明"], Cell::Text),
    column(
        "stage_visit_id",
        &["阶段走访"],
        Cell::Reference(Target::Visit),
    ),
    column(
        "stage_agreement_id",
        &["阶段协议"],
        Cell::Reference(Target::Agreement),
    ),
];

/// Members an update leaves out: stages move through transitions only.
pub const CREATE_ONLY: &[&str] = &[
    "stage",
    "stage_note",
    "stage_visit_id",
    "stage_agreement_id",
];

const ORDER_CLASSES: &[Column] = &[
    column(
        "enterprise_id",
        &["enterprise", "企业", "合作企业"],
        Cell::Reference(Target::Enterprise),
    ),
    column("name", &["名称", "班级名称", "订单班名称"], Cell::Text),
    column("major", &["专业"], Cell::Text),
    column("cohort_year", &["年级", "届别"], Cell::Integer),
    column("planned_size", &["计划人数"], Cell::Integer),
    column("enrolled_count", &["在读人数", "已招人数"], Cell::Integer),
    column("employed_count", &["就业人数"], Cell::Integer),
    column("allow_over_enrollment", &["允许超招"], Cell::Boolean),
    column("starts_on", &["开始日期"], Cell::Date),
    column("ends_on", &["结束日期"], Cell::Date),
    column("description", &["说明", "简介"], Cell::Text),
];

const INTERNSHIP_BASES: &[Column] = &[
    column(
        "enterprise_id",
        &["enterprise", "企业", "合作企业"],
        Cell::Reference(Target::Enterprise),
    ),
    column("name", &["名称", "基地名称"], Cell::Text),
    column("location", &["地点", "地址"], Cell::Text),
    column("capacity", &["容量", "可容纳人数"], Cell::Integer),
    column("positions", &["岗位数"], Cell::Integer),
    column("description", &["说明", "简介"], Cell::Text),
];

const AGREEMENTS: &[Column] = &[
    column(
        "enterprise_id",
        &["enterprise", "企业", "合作企业"],
        Cell::Reference(Target::Enterprise),
    ),
    column("title", &["标题", "协议名称"], Cell::Text),
    column("number", &["协议编号", "编号"], Cell::Text),
    column("kind", &["类型", "协议类型"], Cell::Choice(AGREEMENT_KINDS)),
    column(
        "order_class_id",
        &["order_class", "订单班"],
        Cell::Reference(Target::OrderClass),
    ),
    column(
        "internship_base_id",
        &["internship_base", "实习基地"],
        Cell::Reference(Target::InternshipBase),
    ),
    column("signed_on", &["签订日期"], Cell::Date),
    column("valid_from", &["生效日期"], Cell::Date),
    column("valid_until", &["到期日期", "截止日期"], Cell::Date),
    column("document_url", &["文件链接", "文档链接"], Cell::Text),
    column("notes", &["备注"], Cell::Text),
    // Computed from the dates.
    column("status", &["状态"], Cell::Ignored),
];

/// Every column an import file of `kind` may have, the read-only ones included.
pub fn of(kind: RecordKind) -> Vec<Column> {
    let own: &[Column] = match kind {
        RecordKind::Enterprises => ENTERPRISES,
        RecordKind::Participants => PARTICIPANTS,
        RecordKind::Visits => VISITS,
        RecordKind::OrderClasses => ORDER_CLASSES,
        RecordKind::InternshipBases => INTERNSHIP_BASES,
        RecordKind::Agreements => AGREEMENTS,
    };
    let mut columns = own.to_vec();
    if matches!(kind, RecordKind::OrderClasses | RecordKind::InternshipBases) {
        columns.extend(INITIAL_STAGE);
    }
    columns.extend(READ_ONLY);
    columns
}

/// The columns a file of `kind` must have: what the API requires of a new record.
pub fn required(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Enterprises => &["name"],
        RecordKind::Participants => &["full_name", "side"],
        RecordKind::Visits => &["title", "starts_at", "direction", "enterprise_ids"],
        RecordKind::OrderClasses | RecordKind::InternshipBases => &["enterprise_id", "name"],
        RecordKind::Agreements => &["enterprise_id", "title", "kind", "valid_from"],
    }
}

/// A header as written, reduced for matching: no BOM or surrounding space, lower
/// case, spaces and hyphens as underscores (`Credit Code` is `credit_code`).
pub fn normalise(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// The column a header names.
pub fn find<'a>(columns: &'a [Column], header: &str) -> Option<&'a Column> {
    let wanted = normalise(header);
    columns
        .iter()
        .find(|c| c.field == wanted || c.aliases.iter().any(|a| normalise(a) == wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [RecordKind; 6] = [
        RecordKind::Enterprises,
        RecordKind::Participants,
        RecordKind::Visits,
        RecordKind::OrderClasses,
        RecordKind::InternshipBases,
        RecordKind::Agreements,
    ];

    #[test]
    fn no_header_names_two_columns() {
        for kind in KINDS {
            let columns = of(kind);
            let mut seen = std::collections::HashSet::new();
            for c in &columns {
                for name in std::iter::once(&c.field).chain(c.aliases) {
                    assert!(seen.insert(normalise(name)), "{kind:?}: `{name}` twice");
                }
            }
        }
    }

    #[test]
    fn headers_match_loosely() {
        let columns = of(RecordKind::Enterprises);
        for header in [
            "credit_code",
            "Credit Code",
            " credit-code ",
            "\u{feff}统一社会信用代码",
        ] {
            assert_eq!(find(&columns, header).map(|c| c.field), Some("credit_code"));
        }
        assert!(find(&columns, "credit").is_none());
    }
}
