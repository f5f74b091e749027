"""Writes ``pairs.jsonl``: labelled pairs of findings for the duplicate measure (减负).

Run ``uv run python tests/data/duplicates/make_pairs.py`` to regenerate (deterministic).

Each *group* is one problem as offices word it: several equivalent phrasings of
its title (``forms``, each tagged with how it differs from the first: an
abbreviation, a synonym, a spelled-out term, an added place / degree adverb /
"问题" / state-of-the-fix phrase, another word order), descriptions, a place or
object slot (``{p}``), and ``near``: another problem of the same topic and unit.

From a group come
- duplicates: two phrasings of the same problem at the same place (sometimes one
  side names the place and the other does not, sometimes one side carries a long
  description), labelled ``duplicate`` with the union of the phrasings' tags;
- pattern near-misses: the same phrasing about another place or object (the slot
  changed: one or two characters apart), labelled ``distinct``;
- topic near-misses: the ``near`` problem at the same place, labelled ``distinct``.

The split is fixed by group: groups whose number is divisible by 3 form the
held-apart ``report`` part, the others the ``tune`` part, so no problem's wording
is seen in both parts.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).with_name("pairs.jsonl")


@dataclass(frozen=True)
class Group:
    category: str
    slots: tuple[str, ...]  # values of {p}: places, programmes or objects
    forms: tuple[tuple[str, str], ...]  # (title, tags relative to the first form)
    desc: str  # the description, may use {p}
    long_desc: str  # a longer description of the same problem
    near: tuple[str, ...]  # other problems of the same topic, may use {p}


G = Group
GROUPS: list[Group] = [
    G(
        "livelihood",
        ("青山镇", "城关镇", "白沙镇"),
        (
            ("{p}医疗保障基金违反规定使用", ""),
            ("{p}医保基金违规使用问题", "abbreviation,spelled_out,added_wenti"),
            ("医保基金违规使用", "abbreviation,spelled_out,dropped_place"),
        ),
        "{p}卫生院存在串换药品、虚记费用骗取医保基金的情况",
        "审计发现{p}卫生院2023年以来通过串换药品、虚记诊疗项目、重复收费等方式违规使用"
        "医保基金，涉及金额较大，群众反映强烈，截至目前尚未完成整改",
        ("{p}医保参保缴费率偏低", "{p}医保报销窗口服务态度差"),
    ),
    G(
        "ecology",
        ("城南", "城北", "城西"),
        (
            ("{p}河道垃圾长期未清理", ""),
            ("{p}河流沿岸垃圾堆积未清理", "synonym,added_words"),
            ("{p}河道长期未清理垃圾问题", "word_order,added_wenti"),
        ),
        "{p}河道沿岸堆积大量生活垃圾，群众多次反映",
        "督查发现{p}河道两岸及河床内堆积大量生活垃圾和建筑垃圾，部分河段水体发黑发臭，"
        "周边群众多次通过12345热线反映，属地街道清理不及时",
        ("{p}河道非法采砂", "{p}河道两岸违章建筑未拆除"),
    ),
    G(
        "livelihood",
        ("低保", "特困供养", "临时救助"),
        (
            ("{p}对象认定不精准", ""),
            ("{p}对象识别认定不够精准", "added_degree,added_words"),
            ("{p}对象认定把关不严、不精准问题", "added_words,added_wenti"),
        ),
        "部分{p}对象家庭收入核查不到位，存在关系保、人情保",
        "民政专项检查发现，部分乡镇在{p}对象认定中入户调查走过场，家庭经济状况核对不到位，"
        "存在关系保、人情保现象，群众意见较大",
        ("{p}资金发放不及时", "{p}对象动态管理不到位，退出机制不健全"),
    ),
    G(
        "work_style",
        ("财政所", "自然资源所", "市场监管所"),
        (
            ("{p}瞒报统计数据", ""),
            ("{p}隐瞒不报统计数据", "synonym"),
            ("{p}存在瞒报统计数据问题", "added_wenti,added_words"),
        ),
        "{p}在年度统计报表中瞒报相关数据",
        "巡察发现{p}在向上级报送年度统计报表时，对部分不利数据隐瞒不报，导致统计数据失真，"
        "影响上级决策",
        ("{p}统计台账不规范", "{p}统计数据报送不及时"),
    ),
    G(
        "economy",
        ("高标准农田", "农村公路", "小型水库"),
        (
            ("{p}建设项目工程质量不达标", ""),
            ("{p}项目建设质量不合格", "synonym,added_words"),
            ("{p}建设工程质量不过关问题较为突出", "synonym,added_wenti,added_degree"),
        ),
        "抽查{p}建设项目，部分工程质量不达标",
        "审计抽查2022年度{p}建设项目，发现部分标段施工偷工减料，工程质量检测不合格，"
        "建设单位验收把关不严，目前仍在整改中",
        ("{p}建设项目资金拨付滞后", "{p}建设项目未按期完工"),
    ),
    G(
        "livelihood",
        ("光明小学", "实验中学", "第二幼儿园"),
        (
            ("{p}食堂食品安全管理不到位", ""),
            ("{p}食堂食品安全管理存在漏洞", "synonym"),
            ("{p}学校食堂食品安全监管不力问题", "synonym,added_words,added_wenti"),
        ),
        "{p}食堂存在食材过期、留样不规范等问题",
        "市场监管部门检查发现{p}食堂后厨卫生条件差，部分食材超过保质期，食品留样记录"
        "不全，从业人员健康证过期，家长反映强烈",
        ("{p}校车安全管理不到位", "{p}违规收取学生费用"),
    ),
    G(
        "party_building",
        ("东关村", "西岭村", "南湾村"),
        (
            ("{p}党支部三会一课制度落实不到位", ""),
            ("{p}党支部“三会一课”落实不严格", "synonym,punctuation"),
            ("{p}支部三会一课制度执行不到位", "abbreviation,synonym"),
        ),
        "{p}党支部组织生活不规范",
        "巡察发现{p}党支部2023年未按要求召开支部党员大会，党课流于形式，"
        "会议记录不全，组织生活不规范",
        ("{p}党支部发展党员程序不规范", "{p}党员党费收缴不及时"),
    ),
    G(
        "economy",
        ("工业园区", "经济开发区", "高新区"),
        (
            ("{p}招商引资项目落地率低", ""),
            ("{p}招商引资项目落地率偏低", "added_degree"),
            ("{p}招商项目落地率较低的问题", "abbreviation,added_degree,added_wenti"),
        ),
        "{p}签约项目开工率、落地率不高",
        "专项考核发现{p}近三年签约招商引资项目中，大部分未按协议开工建设，"
        "项目落地率不足四成，存在重签约、轻落地现象",
        ("{p}企业亩均税收偏低", "{p}闲置土地处置不及时"),
    ),
    G(
        "ecology",
        ("养殖场", "屠宰场", "砖厂"),
        (
            ("{p}污水直排", ""),
            ("{p}废水未经处理直接排放", "spelled_out,synonym"),
            ("{p}污水直排问题仍未整改到位", "added_wenti,added_state"),
        ),
        "{p}污水未经处理直接排入附近沟渠",
        "群众信访反映，{p}长期将未经处理的污水直接排入村边沟渠，气味刺鼻，"
        "环保部门曾多次责令整改，但问题反复出现",
        ("{p}粉尘污染扰民", "{p}未办理环评手续"),
    ),
    G(
        "livelihood",
        ("幸福小区", "阳光花园", "锦绣家园"),
        (
            ("{p}消防通道被占用", ""),
            ("{p}消防通道长期被占用堵塞", "added_degree,synonym"),
            ("{p}占用消防通道问题突出", "word_order,added_wenti,added_degree"),
        ),
        "{p}消防通道堆放杂物、停放车辆",
        "消防检查发现{p}多处消防通道被私家车和杂物长期占用，消防车无法通行，"
        "物业公司管理不到位，存在较大安全隐患",
        ("{p}电梯故障频发", "{p}物业服务收费不规范"),
    ),
    G(
        "work_style",
        ("住建局", "交通局", "水利局"),
        (
            ("{p}违规发放津补贴", ""),
            ("{p}违反规定发放津贴补贴", "spelled_out"),
            ("{p}存在违规发放津补贴情况", "added_words"),
        ),
        "{p}以加班费名义违规发放津补贴",
        "审计发现{p}2022年至2023年以加班费、值班费名义违反规定向干部职工发放津贴补贴，"
        "涉及金额较大，违反中央八项规定精神",
        ("{p}违规使用公务用车", "{p}超标准公务接待"),
    ),
    G(
        "ecology",
        ("秸秆", "垃圾", "废旧轮胎"),
        (
            ("露天焚烧{p}现象屡禁不止", ""),
            ("{p}露天焚烧屡禁不止", "word_order"),
            ("{p}露天焚烧现象仍较普遍", "word_order,synonym,added_degree"),
        ),
        "部分村组露天焚烧{p}，空气污染严重",
        "督查发现辖区部分村组仍存在露天焚烧{p}现象，夜间焚烧尤为突出，"
        "浓烟影响群众生活，相关乡镇巡查不到位",
        ("{p}综合利用率偏低", "{p}收储运体系不健全"),
    ),
    G(
        "innovation",
        ("研发费用", "科技型企业", "专利"),
        (
            ("{p}奖补资金兑现不及时", ""),
            ("{p}奖励补助资金兑现滞后", "spelled_out,synonym"),
            ("{p}奖补资金迟迟未兑现问题", "synonym,added_wenti"),
        ),
        "{p}奖补资金兑付不及时，企业反映强烈",
        "专项考核发现市科技局对2023年度{p}奖补资金兑付严重滞后，部分企业申报一年多仍未到账，"
        "影响企业创新积极性",
        ("{p}奖补资金审核把关不严", "{p}政策宣传不到位"),
    ),
    G(
        "livelihood",
        ("农民工", "建筑工人", "环卫工人"),
        (
            ("拖欠{p}工资", ""),
            ("{p}工资被拖欠", "word_order"),
            ("拖欠{p}工资问题长期未解决", "added_wenti,added_state,added_degree"),
        ),
        "部分项目拖欠{p}工资，引发集体上访",
        "信访部门反映，辖区部分工程项目长期拖欠{p}工资，涉及人数较多，"
        "多次引发集体上访，相关部门协调处置不力",
        ("{p}社保参保率低", "{p}劳动合同签订率低"),
    ),
    G(
        "work_style",
        ("政务服务中心", "不动产登记中心", "社保服务大厅"),
        (
            ("{p}办事效率低", ""),
            ("{p}办事效率不高、群众排长队", "synonym,added_words"),
            ("{p}办事效率低下问题", "synonym,added_wenti"),
        ),
        "{p}窗口办事效率低，群众反复跑腿",
        "群众评价反映{p}窗口人员少、流程繁、材料多，群众办一件事需多次往返，好差评差评率居全市前列",
        ("{p}工作人员服务态度差", "{p}网上办理系统经常故障"),
    ),
    G(
        "economy",
        ("专项债券", "一般债券", "抗疫特别国债"),
        (
            ("{p}资金闲置", ""),
            ("{p}资金长期闲置未使用", "added_degree,added_words"),
            ("{p}资金沉淀闲置问题", "synonym,added_wenti"),
        ),
        "{p}资金拨付后长期未使用",
        "审计发现2023年下达的{p}资金中部分拨付到项目单位后长期未使用，"
        "项目前期工作不扎实，资金使用效益不高",
        ("{p}资金挪作他用", "{p}项目收益不足以平衡融资"),
    ),
    G(
        "ecology",
        ("饮用水水源地", "自然保护区", "森林公园"),
        (
            ("{p}内违规建设", ""),
            ("{p}违规建设问题未整改", "added_wenti,added_state"),
            ("{p}范围内存在违法违规建设项目", "synonym,added_words"),
        ),
        "{p}核心区内存在违规建设的房屋",
        "环保督察发现{p}核心区和缓冲区内存在违规建设的农家乐和养殖场，至今未拆除，生态环境破坏严重",
        ("{p}界标界桩设置不规范", "{p}巡护监测不到位"),
    ),
    G(
        "livelihood",
        ("城东", "城西", "城北"),
        (
            ("{p}农贸市场环境脏乱差", ""),
            ("{p}菜市场环境卫生脏乱差", "synonym,added_words"),
            ("{p}农贸市场脏乱差问题较为突出", "added_wenti,added_degree"),
        ),
        "{p}农贸市场污水横流、垃圾乱堆",
        "群众反映{p}农贸市场内污水横流、垃圾随处堆放，占道经营严重，"
        "市场管理方清扫不及时，雨天尤为严重",
        ("{p}农贸市场缺斤短两", "{p}农贸市场周边交通拥堵"),
    ),
    G(
        "work_style",
        ("街道办", "社区居委会", "镇政府"),
        (
            ("{p}形式主义填表报数过多", ""),
            ("{p}填表报数多、基层负担重", "word_order,synonym"),
            ("{p}存在过多填表报数的形式主义问题", "word_order,added_wenti"),
        ),
        "上级部门要求{p}重复填报各类报表",
        "调研发现上级部门通过各类政务APP和工作群要求{p}重复填报数据、留痕拍照，"
        "基层干部疲于应付，负担较重",
        ("{p}督查检查考核过多过频", "{p}会议文件过多"),
    ),
    G(
        "economy",
        ("国有企业", "城投公司", "平台公司"),
        (
            ("{p}违规对外出借资金", ""),
            ("{p}违反规定对外借款", "spelled_out,synonym"),
            ("{p}违规对外拆借资金问题", "synonym,added_wenti"),
        ),
        "{p}未经集体决策对外出借资金",
        "审计发现{p}未经集体决策、未履行审批程序向民营企业出借资金，"
        "部分借款逾期未收回，存在国有资产流失风险",
        ("{p}违规举债融资", "{p}资产账实不符"),
    ),
    G(
        "livelihood",
        ("居家养老", "农村幸福院", "社区食堂"),
        (
            ("{p}服务设施闲置", ""),
            ("{p}服务设施长期闲置未运营", "added_degree,added_words"),
            ("{p}设施建成后闲置问题", "added_words,added_wenti"),
        ),
        "部分{p}服务设施建成后未投入使用",
        "专项督查发现辖区已建成的{p}服务设施中，部分长期大门紧锁，未配备服务人员，"
        "成为摆设，建设资金未发挥效益",
        ("{p}运营补贴发放不规范", "{p}服务质量不高，老人满意度低"),
    ),
    G(
        "ecology",
        ("建筑工地", "拆迁工地", "道路施工工地"),
        (
            ("{p}扬尘污染严重", ""),
            ("{p}扬尘管控不力", "synonym"),
            ("{p}扬尘问题突出、防尘措施落实不到位", "added_wenti,added_words"),
        ),
        "{p}未落实六个百分百要求，扬尘较大",
        "大气污染防治督查发现{p}裸土未覆盖、车辆未冲洗、道路未硬化，扬尘污染严重，周边居民多次投诉",
        ("{p}夜间施工噪音扰民", "{p}渣土车辆违规运输"),
    ),
    G(
        "work_style",
        ("村务", "党务", "财务"),
        (
            ("{p}公开不及时不规范", ""),
            ("{p}公开不够及时、不够规范", "added_degree,punctuation"),
            ("{p}公开工作不规范不及时问题", "word_order,added_words,added_wenti"),
        ),
        "部分村{p}公开栏内容长期未更新",
        "巡察发现部分村{p}公开栏内容陈旧，长期未更新，公开内容不全面，群众对公开事项知晓率低",
        ("{p}档案管理混乱", "{p}监督委员会作用发挥不充分"),
    ),
    G(
        "livelihood",
        ("耕地保护", "森林防火", "防汛"),
        (
            ("{p}责任落实不到位", ""),
            ("{p}责任落实不力", "synonym"),
            ("{p}工作责任压得不实、落实不到位问题", "added_words,added_wenti"),
        ),
        "部分乡镇{p}责任未压实",
        "专项考核发现部分乡镇{p}工作责任书签订流于形式，责任未层层压实，"
        "日常巡查记录缺失，存在较大隐患",
        ("{p}经费保障不足", "{p}宣传教育不到位"),
    ),
    G(
        "economy",
        ("政府投资项目", "政府采购项目", "基础设施项目"),
        (
            ("{p}未批先建", ""),
            ("{p}未经审批先行建设", "spelled_out"),
            ("{p}未批先建问题仍然存在", "added_wenti,added_state"),
        ),
        "部分{p}未办理审批手续即开工建设",
        "审计发现部分{p}在未取得立项批复和施工许可的情况下即开工建设，程序不合规，存在较大风险",
        ("{p}超概算严重", "{p}竣工决算不及时"),
    ),
    G(
        "livelihood",
        ("农村饮水", "城乡供水", "集中供水"),
        (
            ("{p}安全保障不到位", ""),
            ("{p}安全保障工作不到位", "added_words"),
            ("{p}安全保障方面存在短板问题", "synonym,added_words,added_wenti"),
        ),
        "部分村{p}水质检测不达标",
        "督查发现部分村{p}工程水质检测不达标，消毒设备未正常运行，枯水期群众饮水困难，群众反映强烈",
        ("{p}工程管护经费不足", "{p}水费收缴率低"),
    ),
    G(
        "work_style",
        ("中央八项规定精神", "廉洁纪律", "财经纪律"),
        (
            ("违反{p}", ""),
            ("违背{p}问题", "synonym,added_wenti"),
            ("{p}执行不严、存在违反行为", "word_order,added_words"),
        ),
        "个别干部违反{p}",
        "巡察发现个别干部违反{p}，在工作中存在吃拿卡要等行为，单位党组织管党治党不严",
        ("{p}学习教育不深入", "{p}警示教育开展不经常"),
    ),
    G(
        "innovation",
        ("数字政府", "智慧城市", "一网通办"),
        (
            ("{p}平台重复建设", ""),
            ("{p}平台多头建设、重复建设", "added_words"),
            ("{p}系统平台重复建设问题", "added_words,added_wenti"),
        ),
        "各部门各自建设{p}平台，数据不互通",
        "专项审计发现各部门各自建设{p}相关平台，功能重叠，数据无法共享互通，造成财政资金浪费",
        ("{p}平台使用率低", "{p}数据安全管理不到位"),
    ),
    G(
        "ecology",
        ("矿山", "采石场", "取土场"),
        (
            ("{p}生态修复滞后", ""),
            ("{p}生态修复进度滞后", "added_words"),
            ("{p}生态恢复治理推进缓慢问题", "synonym,added_wenti"),
        ),
        "关闭的{p}生态修复未按期完成",
        "环保督察发现辖区已关闭的{p}生态修复治理进度严重滞后，山体裸露，"
        "存在地质灾害隐患，修复资金未足额到位",
        ("{p}非法开采", "{p}安全生产隐患排查不到位"),
    ),
    G(
        "livelihood",
        ("残疾人", "困难群众", "退役军人"),
        (
            ("{p}补贴发放不到位", ""),
            ("{p}补贴资金发放不及时、不到位", "added_words"),
            ("{p}补贴未及时足额发放问题", "synonym,added_wenti"),
        ),
        "部分{p}补贴未按时足额发放",
        "专项审计发现部分乡镇{p}补贴资金滞留在乡镇账户，未按时足额发放到人，个别存在冒领现象",
        ("{p}信息底数不清", "{p}帮扶政策宣传不到位"),
    ),
    G(
        "party_building",
        ("驻村工作队", "第一书记", "包村干部"),
        (
            ("{p}驻村不在村", ""),
            ("{p}长期驻村不在村、走读现象严重", "added_degree,added_words"),
            ("{p}存在挂名不驻村问题", "synonym,added_wenti"),
        ),
        "{p}在岗天数不足",
        "督查发现部分{p}每月在村天数不足规定要求，存在走读、挂名现象，群众对其工作知晓率低",
        ("{p}工作经费使用不规范", "{p}帮扶项目推进缓慢"),
    ),
    G(
        "economy",
        ("土地出让金", "耕地占用税", "城市基础设施配套费"),
        (
            ("{p}征收不到位", ""),
            ("{p}应收未收", "synonym"),
            ("{p}征收不及时、不足额问题", "synonym,added_wenti"),
        ),
        "部分项目{p}未足额征收",
        "审计发现2021年以来部分项目{p}未按规定足额征收，欠缴金额较大，相关部门催缴不力",
        ("{p}违规减免", "{p}收入未及时缴入国库"),
    ),
    G(
        "livelihood",
        ("县医院", "中医院", "妇幼保健院"),
        (
            ("{p}挂号难、看病难", ""),
            ("{p}群众挂号难看病难问题突出", "added_words,added_wenti,added_degree"),
            ("{p}看病难挂号难", "word_order"),
        ),
        "{p}专家号一号难求，群众反映强烈",
        "信访部门反映{p}专家号源紧张，网上挂号一号难求，门诊排队时间长，群众看病就医体验差",
        ("{p}药品价格虚高", "{p}医疗废物处置不规范"),
    ),
    G(
        "work_style",
        ("公务用车", "办公用房", "公务接待"),
        (
            ("{p}管理不规范", ""),
            ("{p}管理不够规范", "added_degree"),
            ("{p}管理制度执行不严格问题", "synonym,added_words,added_wenti"),
        ),
        "{p}台账记录不全",
        "审计发现{p}管理台账记录不全，审批手续不完备，存在超标准、超范围等问题，制度执行不严",
        ("{p}超标准配置", "{p}费用支出未纳入预算"),
    ),
    G(
        "ecology",
        ("黑臭水体", "城市内涝点", "污水管网"),
        (
            ("{p}治理不彻底", ""),
            ("{p}整治不彻底、问题反弹", "synonym,added_words"),
            ("{p}治理不到位问题整改进展缓慢", "synonym,added_wenti,added_state"),
        ),
        "部分{p}治理后出现反弹",
        "回头看发现部分已销号的{p}治理不彻底，雨季出现反弹，长效管护机制未建立",
        ("{p}治理资金使用不规范", "{p}排查底数不清"),
    ),
    G(
        "livelihood",
        ("义务教育", "学前教育", "职业教育"),
        (
            ("{p}学位供给不足", ""),
            ("{p}学位紧张、供给不足", "added_words"),
            ("{p}学位供给不足问题较为突出", "added_wenti,added_degree"),
        ),
        "城区{p}学位紧张，大班额问题突出",
        "专项考核发现城区{p}学位供给严重不足，新建小区配套学校建设滞后，大班额问题未得到根本解决",
        ("{p}教师队伍结构不合理", "{p}经费保障不到位"),
    ),
    G(
        "work_style",
        ("信访事项", "12345热线工单", "人大代表建议"),
        (
            ("{p}办理不及时", ""),
            ("{p}办理超期", "synonym"),
            ("{p}未按期办理、办理质量不高问题", "synonym,added_words,added_wenti"),
        ),
        "部分{p}超过办理期限",
        "督查发现部分{p}未在规定期限内办结，答复敷衍，群众不满意，重复交办现象较多",
        ("{p}办理结果群众满意度低", "{p}台账管理混乱"),
    ),
    G(
        "economy",
        ("个体工商户", "小微企业", "民营企业"),
        (
            ("{p}融资难融资贵", ""),
            ("{p}融资难、融资贵问题仍然突出", "added_wenti,added_degree,punctuation"),
            ("{p}贷款难、贷款贵", "synonym"),
        ),
        "{p}贷款审批周期长、利率高",
        "营商环境评价反映{p}贷款审批周期长、担保要求高、综合融资成本高，惠企政策落实不到位",
        ("{p}账款被拖欠", "{p}涉企检查过多"),
    ),
    G(
        "ecology",
        ("畜禽养殖", "水产养殖", "生猪养殖"),
        (
            ("{p}粪污资源化利用率低", ""),
            ("{p}粪污资源化利用水平偏低", "synonym,added_degree"),
            ("{p}废弃物资源化利用率不高问题", "synonym,added_wenti"),
        ),
        "{p}粪污处理设施配套不足",
        "环保督察发现辖区{p}粪污处理设施配套不足，资源化利用率低于全省平均水平，部分粪污直排",
        ("{p}禁养区划定不合理", "{p}环评手续不全"),
    ),
    G(
        "livelihood",
        ("老旧小区改造", "棚户区改造", "城中村改造"),
        (
            ("{p}进度滞后", ""),
            ("{p}工程进度严重滞后", "added_words,added_degree"),
            ("{p}推进缓慢问题", "synonym,added_wenti"),
        ),
        "{p}项目未按计划开工",
        "专项督查发现2023年{p}项目大部分未按计划开工建设，已开工项目进度缓慢，群众意见较大",
        ("{p}资金管理不规范", "{p}工程质量投诉多"),
    ),
    G(
        "party_building",
        ("干部选拔任用", "职级晋升", "公务员招录"),
        (
            ("{p}程序不规范", ""),
            ("{p}工作程序不够规范", "added_words,added_degree"),
            ("{p}程序执行不严格、不规范问题", "synonym,added_words,added_wenti"),
        ),
        "{p}档案材料不全",
        "巡察发现{p}工作中部分环节程序不规范，档案材料缺失，民主推荐和考察环节走过场",
        ("{p}工作纪实不全", "{p}干部档案管理混乱"),
    ),
    G(
        "economy",
        ("乡村振兴衔接资金", "扶贫项目资金", "以工代赈资金"),
        (
            ("{p}使用效益不高", ""),
            ("{p}使用效益偏低", "synonym,added_degree"),
            ("{p}使用绩效不高问题", "synonym,added_wenti"),
        ),
        "部分{p}项目建成后闲置",
        "审计发现部分{p}项目建成后未产生预期收益，部分产业项目闲置，资金使用效益不高",
        ("{p}违规用于非生产性支出", "{p}拨付滞后"),
    ),
    G(
        "livelihood",
        ("燃气", "电动自行车", "危化品"),
        (
            ("{p}安全隐患排查整治不到位", ""),
            ("{p}安全隐患排查整治不彻底", "synonym"),
            ("{p}安全隐患排查不到位、整治不彻底问题", "added_words,added_wenti"),
        ),
        "部分场所{p}安全隐患未及时消除",
        "安全生产专项检查发现辖区部分场所{p}安全隐患排查走过场，发现的隐患未及时整改消除",
        ("{p}安全宣传培训不到位", "{p}安全监管执法偏软"),
    ),
    G(
        "work_style",
        ("议事协调机构", "临时机构", "工作专班"),
        (
            ("{p}过多过滥", ""),
            ("{p}设置过多、过滥", "added_words,punctuation"),
            ("{p}数量过多问题仍未清理到位", "added_words,added_wenti,added_state"),
        ),
        "{p}设置过多，职责交叉",
        "调研发现部分单位{p}设置过多，职责交叉重叠，部分长期不开展工作，清理规范不到位",
        ("{p}运行不规范", "{p}牵头部门履职不到位"),
    ),
    G(
        "ecology",
        ("耕地", "基本农田", "林地"),
        (
            ("违法占用{p}", ""),
            ("违规占用{p}建房", "synonym,added_words"),
            ("{p}被违法占用问题", "word_order,added_wenti"),
        ),
        "部分村民违法占用{p}建房",
        "卫片执法检查发现辖区部分村民违法占用{p}建房和建设厂棚，乡镇制止不力，执法查处不到位",
        ("{p}撂荒", "{p}占补平衡不到位"),
    ),
    G(
        "livelihood",
        ("城乡居民", "灵活就业人员", "被征地农民"),
        (
            ("{p}养老保险参保率低", ""),
            ("{p}养老保险参保覆盖面不足", "synonym"),
            ("{p}基本养老保险参保率偏低问题", "added_words,added_degree,added_wenti"),
        ),
        "{p}养老保险参保缴费人数下降",
        "专项考核发现{p}基本养老保险参保缴费人数连续两年下降，参保扩面工作不力，部分群众断缴",
        ("{p}养老金发放不及时", "{p}养老保险待遇核定错误"),
    ),
    G(
        "economy",
        ("政府采购", "工程招投标", "国有产权交易"),
        (
            ("{p}存在围标串标", ""),
            ("{p}中存在串通投标行为", "synonym,added_words"),
            ("{p}围标串标问题突出", "added_wenti,added_degree"),
        ),
        "部分{p}项目疑似围标串标",
        "审计发现部分{p}项目投标文件雷同，投标人之间存在关联关系，疑似围标串标，监管部门查处不力",
        ("{p}限制排斥潜在投标人", "{p}合同履约监管不到位"),
    ),
    G(
        "innovation",
        ("科技成果转化", "产学研合作", "人才引进"),
        (
            ("{p}政策落实不到位", ""),
            ("{p}政策落实落地不够", "synonym,added_degree"),
            ("{p}相关政策落实不到位问题", "added_words,added_wenti"),
        ),
        "{p}配套政策未出台细则",
        "专项考核发现{p}相关配套政策出台后未制定实施细则，政策兑现率低，企业和人才获得感不强",
        ("{p}平台载体建设滞后", "{p}考核评价机制不健全"),
    ),
    G(
        "livelihood",
        ("残疾人两项补贴", "孤儿基本生活费", "高龄津贴"),
        (
            ("{p}冒领", ""),
            ("{p}被冒领、多领", "added_words,punctuation"),
            ("存在冒领{p}问题", "word_order,added_words,added_wenti"),
        ),
        "部分已死亡人员仍在领取{p}",
        "审计数据比对发现部分已死亡人员、服刑人员仍在领取{p}，动态管理不到位，资金未及时追回",
        ("{p}标准调整不及时", "{p}申请审核周期长"),
    ),
    G(
        "ecology",
        ("河湖长制", "林长制", "田长制"),
        (
            ("{p}工作流于形式", ""),
            ("{p}工作落实流于形式、走过场", "added_words,punctuation"),
            ("{p}履职流于形式问题", "synonym,added_wenti"),
        ),
        "部分{p}责任人未按要求开展巡查",
        "督查发现部分乡镇{p}责任人巡查记录造假，发现问题未及时交办处置，"
        "{p}工作流于形式，考核排名靠后",
        ("{p}公示牌信息未及时更新", "{p}考核问责机制不健全"),
    ),
]


def _is_place(slot: str) -> bool:
    """A place can be left out by one office and named by another; a programme cannot."""
    return slot[-1] in "镇村区园苑心厅院校学" or slot in {"城东", "城西", "城南", "城北"}


DUP_PER_GROUP = 3
DISTINCT_PER_GROUP = 3


def _text(title: str, desc: str, category: str) -> dict[str, str]:
    return {"title": title, "description": desc, "category": category}


def _pairs() -> list[dict[str, object]]:
    rng = random.Random(20261207)
    out: list[dict[str, object]] = []
    for number, group in enumerate(GROUPS):
        split = "report" if number % 3 == 0 else "tune"
        slots = list(group.slots)
        forms = list(group.forms)
        combos = [(i, j) for i in range(len(forms)) for j in range(len(forms)) if i < j]
        rng.shuffle(combos)
        made: list[tuple[str, list[str], dict[str, str], dict[str, str]]] = []
        for k in range(DUP_PER_GROUP):
            i, j = combos[k % len(combos)]
            slot = slots[k % len(slots)]
            tags = {t for t in (forms[i][1] + "," + forms[j][1]).split(",") if t}
            a_title = forms[i][0].format(p=slot)
            b_title = forms[j][0].format(p=slot)
            a_desc = group.desc.format(p=slot) if rng.random() < 0.6 else ""
            if k == 1:  # one of each group's duplicates carries a long description
                b_desc = group.long_desc.format(p=slot)
                tags.add("long_description")
            else:
                b_desc = group.desc.format(p=slot) if rng.random() < 0.4 else ""
            droppable = _is_place(slot) and "{p}" in forms[i][0] and "{p}" in forms[j][0]
            if k == 2 and droppable:
                b_title = forms[j][0].format(p="")  # the other side leaves the slot out
                b_desc = b_desc.replace(slot, "")
                tags.add("dropped_slot")
            made.append(
                (
                    "duplicate",
                    sorted(tags),
                    _text(a_title, a_desc, group.category),
                    _text(b_title, b_desc, group.category),
                )
            )
        # pattern near-misses: the same wording, another place, programme or object
        slotted = [f for f, _ in forms if "{p}" in f]
        for k in range(2):
            f = slotted[k % len(slotted)]
            one, other = slots[k], slots[(k + 1) % len(slots)]
            with_desc = rng.random() < 0.5
            made.append(
                (
                    "distinct",
                    ["other_object"],
                    _text(
                        f.format(p=one),
                        group.desc.format(p=one) if with_desc else "",
                        group.category,
                    ),
                    _text(
                        f.format(p=other),
                        group.desc.format(p=other) if with_desc else "",
                        group.category,
                    ),
                )
            )
        # topic near-miss: another problem of the same topic at the same place
        slot = slots[2]
        near = group.near[rng.randrange(len(group.near))]
        made.append(
            (
                "distinct",
                ["other_problem"],
                _text(forms[0][0].format(p=slot), group.desc.format(p=slot), group.category),
                _text(near.format(p=slot), "", group.category),
            )
        )
        assert len(made) == DUP_PER_GROUP + DISTINCT_PER_GROUP
        for label, kinds, a, b in made:
            if rng.random() < 0.5:
                a, b = b, a
            out.append(
                {
                    "id": f"p{len(out) + 1:04d}",
                    "group": number,
                    "split": split,
                    "label": label,
                    "kinds": kinds,
                    "a": a,
                    "b": b,
                }
            )
    return out


def main() -> None:
    pairs = _pairs()
    with OUT.open("w", encoding="utf-8") as f:
        for pair in pairs:
            f.write(json.dumps(pair, ensure_ascii=False) + "\n")
    dup = sum(p["label"] == "duplicate" for p in pairs)
    print(f"{len(pairs)} pairs ({dup} duplicates) -> {OUT}")


if __name__ == "__main__":
    main()
