//! Word lists that synthetic records are composed from: places with their
//! administrative division codes, trade-name syllables, industries, people's names.

/// A place: the prefix of names made there, its region (province level), and its
/// administrative division code (GB/T 2260), which credit codes carry.
pub struct Place {
    pub name: &'static str,
    pub region: &'static str,
    pub division: &'static str,
}

macro_rules! places {
    ($($name:literal $region:literal $division:literal),+ $(,)?) => {
        &[$(Place { name: $name, region: $region, division: $division }),+]
    };
}

/// Shanghai and the Yangtze delta come first and several times: the college's
/// partners are mostly near it.
pub const PLACES: &[Place] = places![
    "上海" "上海" "310115", "上海" "上海" "310116", "上海" "上海" "310112",
    "上海" "上海" "310114", "上海" "上海" "310120", "上海" "上海" "310117",
    "南京" "江苏" "320100", "无锡" "江苏" "320200", "徐州" "江苏" "320300",
    "常州" "江苏" "320400", "苏州" "江苏" "320500", "南通" "江苏" "320600",
    "连云港" "江苏" "320700", "盐城" "江苏" "320900", "扬州" "江苏" "321000",
    "镇江" "江苏" "321100", "泰州" "江苏" "321200", "杭州" "浙江" "330100",
    "宁波" "浙江" "330200", "温州" "浙江" "330300", "嘉兴" "浙江" "330400",
    "湖州" "浙江" "330500", "绍兴" "浙江" "330600", "金华" "浙江" "330700",
    "舟山" "浙江" "330900", "台州" "浙江" "331000", "合肥" "安徽" "340100",
    "芜湖" "安徽" "340200", "马鞍山" "安徽" "340500", "济南" "山东" "370100",
    "青岛" "山东" "370200", "烟台" "山东" "370600", "广州" "广东" "440100",
    "深圳" "广东" "440300", "佛山" "广东" "440600", "东莞" "广东" "441900",
    "北京" "北京" "110105", "天津" "天津" "120116", "武汉" "湖北" "420100",
    "成都" "四川" "510100", "厦门" "福建" "350200",
];

/// Syllables of trade names (字号), with their pinyin for web and mail domains.
#[rustfmt::skip]
pub const TRADE: &[(&str, &str)] = &[
    ("恒", "heng"), ("瑞", "rui"), ("华", "hua"), ("信", "xin"), ("宏", "hong"),
    ("达", "da"), ("金", "jin"), ("鑫", "xin"), ("通", "tong"), ("泰", "tai"),
    ("隆", "long"), ("盛", "sheng"), ("德", "de"), ("安", "an"), ("康", "kang"),
    ("新", "xin"), ("诚", "cheng"), ("嘉", "jia"), ("创", "chuang"), ("远", "yuan"),
    ("博", "bo"), ("海", "hai"), ("天", "tian"), ("宇", "yu"), ("中", "zhong"),
    ("东", "dong"), ("方", "fang"), ("科", "ke"), ("正", "zheng"), ("润", "run"),
    ("丰", "feng"), ("源", "yuan"), ("永", "yong"), ("辉", "hui"), ("联", "lian"),
    ("凯", "kai"), ("力", "li"), ("明", "ming"), ("晟", "sheng"), ("卓", "zhuo"),
    ("越", "yue"), ("汇", "hui"), ("峰", "feng"), ("高", "gao"), ("立", "li"),
    ("启", "qi"), ("航", "hang"), ("星", "xing"), ("锦", "jin"), ("乐", "le"),
    ("聚", "ju"), ("和", "he"), ("实", "shi"), ("亿", "yi"), ("万", "wan"),
    ("兴", "xing"), ("旺", "wang"), ("鼎", "ding"), ("伟", "wei"), ("优", "you"),
    ("智", "zhi"), ("蓝", "lan"), ("绿", "lv"), ("湾", "wan"),
];

/// An industry: its label (the `industry` column), the word companies in it put
/// in their names, and the college major that trains for it.
pub struct Industry {
    pub label: &'static str,
    pub segment: &'static str,
    pub major: &'static str,
}

macro_rules! industries {
    ($($label:literal $segment:literal $major:literal),+ $(,)?) => {
        &[$(Industry { label: $label, segment: $segment, major: $major }),+]
    };
}

pub const INDUSTRIES: &[Industry] = industries![
    "化工" "化工" "应用化工技术",
    "新材料" "新材料科技" "高分子材料智能制造技术",
    "装备制造" "精密机械" "机电一体化技术",
    "汽车零部件" "汽车部件" "汽车制造与试验技术",
    "电子信息" "电子科技" "电子信息工程技术",
    "集成电路" "半导体" "集成电路技术",
    "软件和信息服务" "信息技术" "软件技术",
    "生物医药" "生物医药" "药品生产技术",
    "医疗器械" "医疗器械" "医疗器械维护与管理",
    "现代物流" "物流" "现代物流管理",
    "新能源" "新能源科技" "光伏工程技术",
    "食品" "食品" "食品检验检测技术",
    "纺织服装" "纺织" "现代纺织技术",
    "建筑工程" "建设工程" "建筑工程技术",
    "港口航运" "港务" "港口与航运管理",
    "电子商务" "电子商务" "电子商务",
    "酒店旅游" "酒店管理" "酒店管理与数字化运营",
    "环保" "环保科技" "环境工程技术",
];

pub const COMPANY_SUFFIXES: &[&str] = &[
    "有限公司",
    "有限公司",
    "有限公司",
    "股份有限公司",
    "集团有限公司",
];
pub const PARK_TYPES: &[&str] = &["产业园", "科技园", "工业园区", "化工园区", "产业基地"];
pub const ASSOCIATION_TYPES: &[&str] = &["行业协会", "商会", "产业联盟", "产教融合共同体"];
pub const ZONE_TYPES: &[&str] = &["经济技术开发区", "高新技术产业开发区", "工业园区", "新区"];
pub const GOVERNMENT_OFFICES: &[&str] = &[
    "管理委员会",
    "经济发展局",
    "人力资源和社会保障局",
    "科技创新局",
    "投资促进中心",
];
/// Institutions: the kind of body, and the industry it counts under.
pub const INSTITUTION_TYPES: &[(&str, &str)] = &[
    ("医院", "医疗卫生"),
    ("康复医院", "医疗卫生"),
    ("妇幼保健院", "医疗卫生"),
    ("检验检测研究院", "检验检测"),
    ("职业技能培训中心", "教育培训"),
];
pub const STREETS: &[&str] = &["路", "大道", "街"];

#[rustfmt::skip]
pub const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"),
    ("潘", "pan"), ("袁", "yuan"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"),
    ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("魏", "wei"), ("苏", "su"),
    ("吕", "lv"), ("丁", "ding"), ("沈", "shen"), ("任", "ren"), ("姚", "yao"),
    ("卢", "lu"), ("姜", "jiang"), ("崔", "cui"), ("钟", "zhong"), ("谭", "tan"),
    ("陆", "lu"), ("汪", "wang"), ("范", "fan"), ("金", "jin"), ("石", "shi"),
];

#[rustfmt::skip]
pub const GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("桂", "gui"), ("华", "hua"), ("建", "jian"), ("国", "guo"),
    ("文", "wen"), ("红", "hong"), ("辉", "hui"), ("玲", "ling"), ("鹏", "peng"),
    ("晓", "xiao"), ("婷", "ting"), ("宇", "yu"), ("浩", "hao"), ("欣", "xin"),
    ("博", "bo"), ("佳", "jia"), ("俊", "jun"), ("峰", "feng"), ("琳", "lin"),
    ("雪", "xue"), ("慧", "hui"), ("颖", "ying"), ("志", "zhi"), ("海", "hai"),
    ("斌", "bin"), ("丹", "dan"), ("倩", "qian"), ("晨", "chen"), ("阳", "yang"),
];

/// Partner-side (title, department) by kind of enterprise.
pub const COMPANY_TITLES: &[(&str, &str)] = &[
    ("总经理", "总经理办公室"),
    ("副总经理", "总经理办公室"),
    ("人力资源部经理", "人力资源部"),
    ("招聘主管", "人力资源部"),
    ("培训主管", "人力资源部"),
    ("生产部经理", "生产部"),
    ("技术总监", "技术部"),
    ("质量部经理", "质量部"),
];
pub const PARK_TITLES: &[(&str, &str)] = &[
    ("主任", "管理办公室"),
    ("副主任", "管理办公室"),
    ("首席经济师", "经济发展部"),
    ("招商部部长", "招商部"),
    ("人才服务中心主任", "人才服务中心"),
];
pub const ASSOCIATION_TITLES: &[(&str, &str)] = &[
    ("会长", "会长办公室"),
    ("秘书长", "秘书处"),
    ("副秘书长", "秘书处"),
    ("会员服务部主任", "会员服务部"),
];
pub const GOVERNMENT_TITLES: &[(&str, &str)] = &[
    ("局长", "局办公室"),
    ("副局长", "局办公室"),
    ("科长", "就业促进科"),
    ("科员", "人才开发科"),
];
pub const INSTITUTION_TITLES: &[(&str, &str)] = &[
    ("院长", "院办公室"),
    ("副院长", "院办公室"),
    ("人事科科长", "人事科"),
    ("护理部主任", "护理部"),
    ("科教科科长", "科教科"),
];

/// The college's own leadership and offices: (title, department), one person each.
pub const SCHOOL_LEADERS: &[(&str, &str)] = &[
    ("校长", "校长办公室"),
    ("副校长", "校长办公室"),
    ("副校长", "校长办公室"),
    ("主任", "校企合作办公室"),
    ("副主任", "校企合作办公室"),
    ("科员", "校企合作办公室"),
    ("主任", "招生就业处"),
    ("科员", "招生就业处"),
];
/// The college's schools (二级学院), whose staff fill the rest of the pool.
pub const SCHOOL_DEPARTMENTS: &[&str] = &[
    "化学工程学院",
    "材料工程学院",
    "机电工程学院",
    "智能制造学院",
    "信息工程学院",
    "经济管理学院",
    "现代物流学院",
    "医药卫生学院",
    "建筑工程学院",
];
/// Titles inside a school: the first two may host a visit.
pub const SCHOOL_TITLES: &[&str] = &["院长", "副院长", "专业带头人", "专业教师", "辅导员"];

pub const TOPICS: &[&str] = &[
    "订单班",
    "实习基地共建",
    "人才培养方案",
    "毕业生就业",
    "技术服务",
    "现代学徒制",
    "产教融合",
    "师资培训",
];
pub const PURPOSES: &[&str] = &[
    "就{topic}合作进行深入交流，了解企业人才需求。",
    "推进{topic}相关工作，商讨下一步合作安排。",
    "了解{name}的发展规划与用人需求，探讨{topic}合作的可行性。",
    "回访合作单位，听取对{topic}工作的意见和建议。",
];
pub const SUMMARIES: &[&str] = &[
    "双方围绕{topic}进行了交流。{name}介绍了企业发展情况和岗位需求，学校介绍了相关专业建设情况。",
    "{name}一行参观了实训中心，双方就{topic}的具体安排交换了意见。",
    "双方回顾了前期合作成效，并就{topic}中存在的问题逐项讨论。",
    "会上双方就{topic}的目标、规模和时间安排进行了充分沟通。",
];
pub const OUTCOMES: &[&str] = &[
    "达成初步合作意向。",
    "双方同意推进{topic}，形成合作方案初稿。",
    "确定了下一步实地考察安排。",
    "同意签订合作协议。",
    "暂无明确合作计划，保持联系。",
];
pub const FOLLOW_UPS: &[&str] = &[
    "整理会议纪要并报送校领导。",
    "起草{topic}合作方案，征求企业意见。",
    "安排专业教师赴企业实地调研。",
    "对接毕业生招聘需求，组织专场招聘会。",
];
pub const CANCEL_NOTES: &[&str] = &[
    "因企业方行程调整取消，另行约定时间。",
    "因学校教学安排冲突取消。",
];
pub const MEETING_ROOMS: &[&str] = &[
    "行政楼第一会议室",
    "行政楼第二会议室",
    "图书馆报告厅",
    "产教融合中心会议室",
    "实训中心会议室",
];
pub const ONLINE_ROOMS: &[&str] = &["腾讯会议", "钉钉视频会议", "企业微信会议"];

/// Fills `{topic}` and `{name}` in a template.
pub fn fill(template: &str, topic: &str, name: &str) -> String {
    template.replace("{topic}", topic).replace("{name}", name)
}
