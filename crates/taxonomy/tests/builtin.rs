//! The committed taxonomy: it validates, the study's titles exist with the family and level we
//! decided (see docs/taxonomy.md), and the lookups behave.

use jobshift_taxonomy::{validate_builtin, Level, Taxonomy, Tier};

fn tax() -> Taxonomy {
    match Taxonomy::builtin() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn builtin_taxonomy_validates() {
    let problems = validate_builtin();
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the built-in taxonomy",
        problems.len()
    );
    let tax = tax();
    assert!(!tax.version().is_empty());
    assert_eq!(tax.families().len(), 33);
    let n = tax.titles().len();
    assert!(
        (600..=700).contains(&n),
        "the study's taxonomy has ~650 titles; we have {n}"
    );
    for f in tax.families() {
        assert!(
            tax.titles_in_family(&f.id).next().is_some(),
            "family {} has no titles",
            f.id
        );
    }
}

/// Every id fixed in TEAM.md, with the family and level the study implies.
const STUDY_TITLES: &[(&str, &str, Level)] = &[
    (
        "computer_graphic_artist",
        "creative_media",
        Level::IndividualContributor,
    ),
    (
        "photographer",
        "creative_media",
        Level::IndividualContributor,
    ),
    ("writer", "creative_media", Level::IndividualContributor),
    ("journalist", "creative_media", Level::IndividualContributor),
    (
        "videographer",
        "creative_media",
        Level::IndividualContributor,
    ),
    (
        "graphic_designer",
        "creative_media",
        Level::IndividualContributor,
    ),
    (
        "product_designer",
        "product_design",
        Level::IndividualContributor,
    ),
    ("creative_director", "creative_media", Level::Director),
    ("creative_manager", "creative_media", Level::Manager),
    (
        "creative_producer",
        "creative_media",
        Level::IndividualContributor,
    ),
    (
        "public_relations_specialist",
        "communications",
        Level::IndividualContributor,
    ),
    (
        "corporate_compliance_specialist",
        "legal_compliance",
        Level::IndividualContributor,
    ),
    (
        "chief_compliance_officer",
        "legal_compliance",
        Level::CSuite,
    ),
    (
        "trade_compliance_specialist",
        "legal_compliance",
        Level::IndividualContributor,
    ),
    (
        "sustainability_specialist",
        "sustainability_environment",
        Level::IndividualContributor,
    ),
    (
        "sustainability_program_manager",
        "sustainability_environment",
        Level::IndividualContributor,
    ),
    (
        "sustainability_manager",
        "sustainability_environment",
        Level::Manager,
    ),
    (
        "sustainability_director",
        "sustainability_environment",
        Level::Director,
    ),
    (
        "environmental_technician",
        "sustainability_environment",
        Level::IndividualContributor,
    ),
    (
        "medical_scribe",
        "healthcare_administration",
        Level::IndividualContributor,
    ),
    (
        "medical_coder",
        "healthcare_administration",
        Level::IndividualContributor,
    ),
    (
        "medical_assistant",
        "healthcare_clinical",
        Level::IndividualContributor,
    ),
    (
        "registered_nurse",
        "healthcare_clinical",
        Level::IndividualContributor,
    ),
    (
        "machine_learning_engineer",
        "data_ai",
        Level::IndividualContributor,
    ),
    (
        "robotics_engineer",
        "engineering",
        Level::IndividualContributor,
    ),
    (
        "research_scientist",
        "science_research",
        Level::IndividualContributor,
    ),
    (
        "data_center_engineer",
        "it_infrastructure",
        Level::IndividualContributor,
    ),
    ("director_of_data_engineering", "data_ai", Level::Director),
    (
        "director_of_real_estate",
        "real_estate_facilities",
        Level::Director,
    ),
    ("legal_director", "legal_compliance", Level::Director),
    (
        "director_of_software_engineering",
        "software_engineering",
        Level::Director,
    ),
    ("vp_of_engineering", "software_engineering", Level::Vp),
    (
        "engineering_manager",
        "software_engineering",
        Level::Manager,
    ),
    (
        "influencer_marketing_specialist",
        "marketing",
        Level::IndividualContributor,
    ),
    ("marketing_manager", "marketing", Level::Manager),
    (
        "marketing_specialist",
        "marketing",
        Level::IndividualContributor,
    ),
    (
        "software_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    (
        "frontend_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    (
        "backend_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    (
        "mobile_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    (
        "devops_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    (
        "qa_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    (
        "security_engineer",
        "software_engineering",
        Level::IndividualContributor,
    ),
    ("data_analyst", "data_ai", Level::IndividualContributor),
    ("data_steward", "data_ai", Level::IndividualContributor),
    ("data_engineer", "data_ai", Level::IndividualContributor),
    ("data_scientist", "data_ai", Level::IndividualContributor),
    (
        "customer_service_representative",
        "customer_service",
        Level::IndividualContributor,
    ),
    ("account_executive", "sales", Level::IndividualContributor),
    ("account_manager", "sales", Level::IndividualContributor),
    ("sales_manager", "sales", Level::Manager),
    ("sales_director", "sales", Level::Director),
    ("director_of_revenue", "sales", Level::Director),
    (
        "sales_operations_specialist",
        "sales",
        Level::IndividualContributor,
    ),
    ("gtm_engineer", "sales", Level::IndividualContributor),
    (
        "bioinformatics_scientist",
        "science_research",
        Level::IndividualContributor,
    ),
    (
        "biostatistician",
        "science_research",
        Level::IndividualContributor,
    ),
    (
        "geotechnical_engineer",
        "engineering",
        Level::IndividualContributor,
    ),
    (
        "chemical_operator",
        "manufacturing_production",
        Level::IndividualContributor,
    ),
];

#[test]
fn study_titles_exist_with_family_and_level() {
    let tax = tax();
    let mut wrong = Vec::new();
    for (id, family, level) in STUDY_TITLES {
        match tax.get(id) {
            None => wrong.push(format!("{id}: missing")),
            Some(t) if t.family != *family || t.level != *level => wrong.push(format!(
                "{id}: is {}/{}, expected {family}/{}",
                t.family, t.level, level
            )),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn tiers_follow_levels() {
    let tax = tax();
    assert_eq!(
        tax.get("vp_of_engineering").map(|t| t.tier()),
        Some(Tier::SeniorLeadership)
    );
    assert_eq!(
        tax.get("engineering_manager").map(|t| t.tier()),
        Some(Tier::MiddleManagement)
    );
    assert_eq!(
        tax.get("software_engineer").map(|t| t.tier()),
        Some(Tier::IndividualContributors)
    );
    for level in Level::ALL {
        assert!(
            tax.titles().iter().any(|t| t.level == level),
            "no title at level {level}"
        );
    }
}

#[test]
fn exact_matching_resolves_everyday_titles() {
    let tax = tax();
    let cases = [
        ("Software Developer", "software_engineer"),
        ("SWE", "software_engineer"),
        ("Front-End Developer", "frontend_engineer"),
        ("ML Engineer", "machine_learning_engineer"),
        ("Head of Engineering", "director_of_software_engineering"),
        ("Vice President, Engineering", "vp_of_engineering"),
        ("Go-To-Market Engineer", "gtm_engineer"),
        ("CCO", "chief_compliance_officer"),
        ("Copywriter", "writer"),
        ("3D Artist", "computer_graphic_artist"),
        ("ESG Analyst", "sustainability_specialist"),
        ("Head of Sustainability", "sustainability_director"),
        ("SDR", "sales_development_representative"),
        ("Customer Care Agent", "customer_service_representative"),
        ("Data Governance Analyst", "data_steward"),
        ("Director of Revenue", "director_of_revenue"),
    ];
    for (raw, id) in cases {
        assert_eq!(
            tax.match_exact(raw).map(|t| t.id.as_str()),
            Some(id),
            "{raw}"
        );
    }
    assert!(tax.match_exact("Zyzzyva Wrangler").is_none());
    assert!(tax.match_exact("").is_none());
}

#[test]
fn search_ranks_the_obvious_title_first() {
    let tax = tax();
    let first = |q: &str| tax.search(q, 5).first().map(|t| t.id.clone());
    assert_eq!(
        first("machine learning engineer").as_deref(),
        Some("machine_learning_engineer")
    );
    assert_eq!(
        first("sustainability director").as_deref(),
        Some("sustainability_director")
    );
    assert_eq!(first("frontend").as_deref(), Some("frontend_engineer"));
    assert!(tax.search("data", 3).len() == 3);
    assert!(tax.search("qqqxxx", 3).is_empty());
}

#[test]
fn crosswalk_points_at_sensible_titles() {
    let tax = tax();
    let at = |code: &str| tax.title_for_onet(code).map(|t| t.id.clone());
    assert_eq!(at("15-1252.00").as_deref(), Some("software_engineer"));
    assert_eq!(at("29-1141.00").as_deref(), Some("registered_nurse"));
    assert_eq!(
        at("13-1199.05").as_deref(),
        Some("sustainability_specialist")
    );
    assert_eq!(
        at("27-3031.00").as_deref(),
        Some("public_relations_specialist")
    );
    assert_eq!(
        at("43-4051.00").as_deref(),
        Some("customer_service_representative")
    );
    assert_eq!(at("99-9999.99"), None);
    // every title's own onet_soc is a code of the crosswalk
    for t in tax.titles() {
        assert!(
            tax.title_for_onet(&t.onet_soc).is_some(),
            "{} has onet_soc {} outside the crosswalk",
            t.id,
            t.onet_soc
        );
    }
}
