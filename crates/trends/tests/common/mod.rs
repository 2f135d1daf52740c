//! Test fixtures: small classified datasets written as Parquet with
//! `jobshift_core::schema::classified_schema`, with exactly known per-title counts.
#![allow(dead_code)]

use arrow::array::{ArrayRef, Date32Array, Float32Array, StringArray, UInt32Array, UInt64Array};
use arrow::record_batch::RecordBatch;
use jobshift_core::schema::classified_schema;
use jobshift_trends::{Catalog, TitleRow};
use parquet::arrow::ArrowWriter;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A test taxonomy: (id, family, level, tier).
pub const TITLES: [(&str, &str, &str, &str); 7] = [
    (
        "software_engineer",
        "software_engineering",
        "individual_contributor",
        "individual_contributors",
    ),
    (
        "engineering_manager",
        "software_engineering",
        "manager",
        "middle_management",
    ),
    (
        "frontend_engineer",
        "software_engineering",
        "individual_contributor",
        "individual_contributors",
    ),
    (
        "writer",
        "creative_media",
        "individual_contributor",
        "individual_contributors",
    ),
    (
        "creative_director",
        "creative_media",
        "director",
        "senior_leadership",
    ),
    (
        "photographer",
        "creative_media",
        "individual_contributor",
        "individual_contributors",
    ),
    (
        "gtm_engineer",
        "sales",
        "individual_contributor",
        "individual_contributors",
    ),
];

pub fn catalog() -> Catalog {
    Catalog {
        version: "test-1".into(),
        titles: TITLES
            .iter()
            .map(|(id, fam, level, tier)| TitleRow {
                id: id.to_string(),
                name: id.replace('_', " "),
                family: fam.to_string(),
                family_name: fam.replace('_', " "),
                level: level.to_string(),
                tier: tier.to_string(),
                soc: "00-0000".into(),
            })
            .collect(),
        family_names: vec![],
    }
}

/// The analysis most recovery tests read: titles with at least 100 postings a year, ranked by
/// change, over the test taxonomy.
pub async fn analyze_ranked_by_change(dataset: &Path) -> jobshift_trends::Trends {
    let opts = jobshift_trends::TrendOptions {
        min_postings: Some(100),
        rank_by: Some(jobshift_trends::RankBy::Change),
        ..Default::default()
    };
    jobshift_trends::analyze_with_catalog(dataset, &opts, &catalog())
        .await
        .unwrap()
}

#[derive(Clone)]
pub struct Row {
    pub title_id: String,
    pub company: Option<String>,
    pub date: chrono::NaiveDate,
}

#[derive(Default)]
pub struct Fixture {
    pub rows: Vec<Row>,
}

impl Fixture {
    /// Add `n` postings of `title` in `year`, spread evenly over months 1..=10 and over
    /// `companies` companies named `{prefix}{k}` (None prefix: no company name).
    pub fn add(
        &mut self,
        title: &str,
        year: i32,
        n: usize,
        prefix: Option<&str>,
        companies: usize,
    ) {
        for i in 0..n {
            let month = (i % 10) as u32 + 1;
            let day = (i / 10 % 28) as u32 + 1;
            let company = prefix.map(|p| format!("{p}{}", i % companies.max(1)));
            self.rows.push(Row {
                title_id: title.to_string(),
                company,
                date: chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap(),
            });
        }
    }

    /// Add one posting of `title` on a day.
    pub fn push_on(&mut self, title: &str, company: Option<String>, (y, m, d): (i32, u32, u32)) {
        self.rows.push(Row {
            title_id: title.to_string(),
            company,
            date: chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        });
    }

    /// Add one posting on 2025-10-31, so that the latest month is complete and the analysis
    /// window runs January–October.
    pub fn close_october_2025(&mut self, title: &str, company: Option<&str>) {
        self.push_on(title, company.map(str::to_string), (2025, 10, 31));
    }

    /// Add postings in a given month.
    pub fn add_month(&mut self, title: &str, year: i32, month: u32, n: usize, company: &str) {
        for i in 0..n {
            self.rows.push(Row {
                title_id: title.to_string(),
                company: Some(company.to_string()),
                date: chrono::NaiveDate::from_ymd_opt(year, month, (i % 28) as u32 + 1).unwrap(),
            });
        }
    }

    /// Write DATASET_DIR/classified/month=YYYY-MM/part-0.parquet.
    pub fn write(&self, dataset: &Path) {
        let cat = catalog();
        let meta: BTreeMap<&str, &TitleRow> =
            cat.titles.iter().map(|t| (t.id.as_str(), t)).collect();
        let mut by_month: BTreeMap<String, Vec<(usize, &Row)>> = BTreeMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            by_month
                .entry(r.date.format("%Y-%m").to_string())
                .or_default()
                .push((i, r));
        }
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for (month, rows) in by_month {
            let dir = dataset.join("classified").join(format!("month={month}"));
            std::fs::create_dir_all(&dir).unwrap();
            let s = |f: &dyn Fn(usize, &Row) -> Option<String>| -> ArrayRef {
                Arc::new(StringArray::from(
                    rows.iter().map(|(i, r)| f(*i, r)).collect::<Vec<_>>(),
                ))
            };
            let d: ArrayRef = Arc::new(Date32Array::from(
                rows.iter()
                    .map(|(_, r)| (r.date - epoch).num_days() as i32)
                    .collect::<Vec<_>>(),
            ));
            let m = |r: &Row| meta.get(r.title_id.as_str()).copied();
            let cols: Vec<ArrayRef> = vec![
                s(&|i, _| Some(format!("p{i:08}"))),
                s(&|_, _| Some("test".into())),
                s(&|_, r| r.company.clone()),
                s(&|_, r| Some(r.title_id.replace('_', " "))),
                s(&|_, _| None),
                s(&|_, _| None),
                s(&|_, _| None),
                d.clone(),
                s(&|_, _| Some("day".into())),
                d.clone(),
                d,
                s(&|_, _| None),
                s(&|_, _| None),
                Arc::new(UInt32Array::from(vec![0u32; rows.len()])),
                s(&|_, _| Some("fixture.csv".into())),
                Arc::new(UInt64Array::from(
                    rows.iter().map(|(i, _)| *i as u64 + 1).collect::<Vec<_>>(),
                )),
                s(&|_, r| Some(r.title_id.clone())),
                s(&|_, r| m(r).map(|t| t.name.clone())),
                s(&|_, r| m(r).map(|t| t.family.clone())),
                s(&|_, r| m(r).map(|t| t.level.clone())),
                s(&|_, r| m(r).map(|t| t.tier.clone())),
                s(&|_, _| Some("mid".into())),
                s(&|_, _| None),
                Arc::new(Float32Array::from(vec![0.9f32; rows.len()])),
                s(&|_, r| {
                    Some(if r.title_id == "unclassified" {
                        "unclassified".into()
                    } else {
                        "alias".into()
                    })
                }),
                s(&|_, r| (r.title_id == "unclassified").then(|| "low_confidence".into())),
                jobshift_core::schema::roles_array(std::iter::repeat_n(&[] as &[&str], rows.len())),
            ];
            let batch = RecordBatch::try_new(classified_schema(), cols).unwrap();
            let f = std::fs::File::create(dir.join("part-0.parquet")).unwrap();
            let mut w = ArrowWriter::try_new(f, classified_schema(), None).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
        }
    }
}
